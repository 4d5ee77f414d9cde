"""The no-JavaScript tree editor: form fields round-trip the tree; add and remove edit it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from microcred.pathways.errors import PathwayError
from microcred.pathways.requirements import Requirement, parse_requirement, to_dict
from microcred.pathways.tree_form import apply_edit, flatten, form_path, tree_from_form
from tests.pathways.test_requirements import trees


def as_form(tree: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for node in flatten(tree):
        for key, value in node.data.items():
            fields[f"n:{node.path}:{key}"] = str(value)
    return fields


@settings(max_examples=60, deadline=None)
@given(trees)
def test_form_fields_round_trip_any_tree(tree: Requirement) -> None:
    rebuilt = tree_from_form(as_form(to_dict(tree)))
    assert parse_requirement(rebuilt) == tree


def test_add_and_remove_nodes() -> None:
    tree: dict[str, Any] = {"type": "all_of", "children": []}
    apply_edit(tree, "add:r", "any_of")
    apply_edit(tree, "add:r.0", "credential")
    apply_edit(tree, "add:r.0", "skill")
    assert [n.path for n in flatten(tree)] == ["r", "r.0", "r.0.0", "r.0.1"]
    apply_edit(tree, "remove:r.0.0")
    assert tree["children"][0]["children"] == [{"type": "skill"}]
    with pytest.raises(PathwayError, match="inside a group"):
        apply_edit(tree, "add:r.0.0", "credential")
    with pytest.raises(PathwayError, match="No requirement"):
        apply_edit(tree, "remove:r.5")
    with pytest.raises(PathwayError):
        apply_edit(tree, "explode:r")
    assert apply_edit(tree, "remove:r") == {"type": "all_of", "children": []}


def test_error_fields_map_to_form_nodes() -> None:
    assert form_path("requirements.children[1].children[0].count") == "r.1.0"
    assert form_path("requirements.n") == "r"
    assert form_path("name") is None
    with pytest.raises(PathwayError):
        tree_from_form({"n:x.1:type": "credential"})

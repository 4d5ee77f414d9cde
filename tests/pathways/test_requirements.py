"""Requirement trees: JSON round trip, authoring checks, cycles."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.pathways.errors import PathwayError
from microcred.pathways.requirements import (
    CatalogueFacts,
    Requirement,
    check_tree,
    find_cycle,
    parse_requirement,
    referenced_definitions,
    to_dict,
)

FACTS = CatalogueFacts(
    published={"d1": 2.0, "d2": 3.0, "d3": 0.0},
    hours={"d1": 50, "d2": 75, "d3": 10},
    retired=frozenset({"old"}),
    aligned_count={"skill:x": 2},
    pathways=frozenset({"p2"}),
)

leaves = st.one_of(
    st.builds(
        Requirement,
        kind=st.just("credential"),
        definition_id=st.sampled_from(["d1", "d2", "https://other.example/badges/1"]),
    ),
    st.builds(
        Requirement, kind=st.just("skill"), skill_uri=st.just("skill:x"), count=st.integers(1, 2)
    ),
    st.builds(
        Requirement,
        kind=st.just("credits"),
        amount=st.sampled_from([1.0, 2.5, 5.0]),
        measure=st.sampled_from(["ects", "hours"]),
        pool=st.sampled_from([(), ("d1", "d2")]),
    ),
    st.builds(Requirement, kind=st.just("pathway"), pathway_id=st.just("p2")),
)


def _group(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Requirement]:
    return st.lists(children, min_size=2, max_size=4).flatmap(
        lambda kids: st.builds(
            Requirement,
            kind=st.sampled_from(["all_of", "any_of", "n_of", "sequence"]),
            children=st.just(tuple(kids)),
            n=st.integers(1, len(kids)),
            label=st.sampled_from(["", "Core modules"]),
            within_years=st.sampled_from([None, 3]),
        ).map(
            lambda node: (
                node
                if node.kind == "n_of"
                else Requirement(
                    kind=node.kind,
                    children=node.children,
                    label=node.label,
                    within_years=node.within_years,
                )
            )
        ),
    )


trees = st.recursive(leaves, _group, max_leaves=10)


@given(trees)
def test_json_form_round_trips(tree: Requirement) -> None:
    assert parse_requirement(to_dict(tree)) == tree


@given(trees)
def test_generated_trees_pass_the_authoring_checks(tree: Requirement) -> None:
    check_tree(tree, FACTS)


def _refused(data: dict[str, Any]) -> PathwayError:
    with pytest.raises(PathwayError) as caught:
        check_tree(parse_requirement(data), FACTS)
    return caught.value


def test_n_greater_than_m_is_unsatisfiable() -> None:
    error = _refused(
        {
            "type": "n_of",
            "n": 3,
            "children": [
                {"type": "credential", "definition_id": "d1"},
                {"type": "credential", "definition_id": "d2"},
            ],
        }
    )
    assert error.field == "requirements.n"
    assert "3 of only 2" in error.message


def test_minimum_credits_above_what_the_pool_gives_is_unsatisfiable() -> None:
    error = _refused({"type": "credits", "amount": 6, "pool": ["d1", "d2"]})
    assert error.field == "requirements.amount"
    assert "5 ECTS" in error.message


def test_a_retired_definition_is_refused_with_its_path() -> None:
    error = _refused(
        {
            "type": "all_of",
            "children": [
                {"type": "credential", "definition_id": "d1"},
                {"type": "credential", "definition_id": "old"},
            ],
        }
    )
    assert error.field == "requirements.children[1].definition_id"
    assert "retired" in error.message


def test_a_deleted_definition_is_refused() -> None:
    error = _refused({"type": "credential", "definition_id": "gone"})
    assert "does not exist" in error.message


def test_more_skill_credentials_than_the_catalogue_has_is_unsatisfiable() -> None:
    error = _refused({"type": "skill", "skill_uri": "skill:x", "count": 3})
    assert error.field == "requirements.count"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "nope"}, "requirements.type"),
        ({"type": "all_of", "children": []}, "requirements.children"),
        ({"type": "all_of"}, "requirements.children"),
        (
            {"type": "sequence", "children": [{"type": "credential", "definition_id": "d1"}]},
            "requirements.children",
        ),
        (
            {"type": "n_of", "children": [{"type": "credential", "definition_id": "d1"}]},
            "requirements.n",
        ),
        ({"type": "credits", "amount": "lots"}, "requirements.amount"),
        ({"type": "credits", "amount": 0}, "requirements.amount"),
        ({"type": "credits", "amount": 1, "measure": "days"}, "requirements.measure"),
        ({"type": "credential"}, "requirements.definition_id"),
        (
            {"type": "credential", "definition_id": "d1", "within_years": 0},
            "requirements.within_years",
        ),
        ({"type": "pathway", "pathway_id": "p9"}, "requirements.pathway_id"),
        ([1, 2], "requirements"),
    ],
)
def test_bad_trees_name_the_field(data: Any, field: str) -> None:
    with pytest.raises(PathwayError) as caught:
        check_tree(parse_requirement(data), FACTS)
    assert caught.value.field == field


def test_cycles_between_pathways_are_found() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert find_cycle(graph, "a") == ["a", "b", "c", "a"]
    assert find_cycle(graph, "d") is None
    assert find_cycle({"a": ["a"]}, "a") == ["a", "a"]


def test_referenced_definitions_leave_out_external_achievements() -> None:
    tree = parse_requirement(
        {
            "type": "all_of",
            "children": [
                {"type": "credential", "definition_id": "https://x.example/a"},
                {"type": "credits", "amount": 1, "pool": ["d1", "d2"]},
            ],
        }
    )
    assert referenced_definitions(tree) == {"d1", "d2"}

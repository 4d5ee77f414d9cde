"""The requirement tree as an HTML form that works without JavaScript.

Each node is a group of inputs named ``n:<path>:<field>`` where the path is ``r`` for the root
and ``r.0.2`` for the third child of the first child. "Add" and "Remove" buttons submit the
whole form with ``op=add:<path>`` / ``op=remove:<path>``; the page re-renders the edited tree
until the author saves, when the JSON form goes through the usual parsing and checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microcred.pathways.errors import PathwayError
from microcred.pathways.requirements import GROUP_KINDS, KINDS

FIELDS = (
    "type", "label", "n", "definition_id", "skill_uri", "count", "amount", "measure", "pool",
    "pathway_id", "within_years",
)  # fmt: skip
_PATH = re.compile(r"^r(\.\d{1,3}){0,12}$")
_NUMERIC = {"n", "count", "within_years"}


@dataclass(frozen=True)
class FormNode:
    path: str
    depth: int
    data: dict[str, Any]

    @property
    def is_group(self) -> bool:
        return self.data.get("type") in GROUP_KINDS


def _clean(field: str, value: str) -> Any:
    value = value.strip()
    if field == "pool":
        return [item.strip() for item in re.split(r"[\s,]+", value) if item.strip()]
    if field in _NUMERIC:
        return int(value) if value.lstrip("-").isdigit() else value or None
    if field == "amount":
        try:
            return float(value)
        except ValueError:
            return value or None
    return value or None


def tree_from_form(fields: Mapping[str, str]) -> dict[str, Any]:
    """Rebuild the JSON tree from the ``n:<path>:<field>`` inputs."""
    nodes: dict[str, dict[str, Any]] = {}
    for key, value in fields.items():
        parts = key.split(":")
        if len(parts) != 3 or parts[0] != "n" or parts[2] not in FIELDS:
            continue
        if not _PATH.match(parts[1]):
            raise PathwayError(f"Bad node path {parts[1]!r}.", field="requirements")
        cleaned = _clean(parts[2], value)
        node = nodes.setdefault(parts[1], {})
        if cleaned not in (None, []):
            node[parts[2]] = cleaned
    if "r" not in nodes:
        return {"type": "all_of", "children": []}

    def build(path: str) -> dict[str, Any]:
        node = dict(nodes[path])
        if node.get("type") in GROUP_KINDS:
            indexes = sorted(
                int(other.rsplit(".", 1)[1])
                for other in nodes
                if other.startswith(path + ".") and other.count(".") == path.count(".") + 1
            )
            node["children"] = [build(f"{path}.{index}") for index in indexes]
        return node

    return build("r")


def _locate(tree: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, int, dict[str, Any]]:
    """(parent, index in parent, node) for a form path."""
    parts = path.split(".")[1:]
    parent: dict[str, Any] | None = None
    node = tree
    index = -1
    for part in parts:
        children = node.get("children")
        index = int(part)
        if not isinstance(children, list) or index >= len(children):
            raise PathwayError(f"No requirement at {path}.", field="requirements")
        parent, node = node, children[index]
    return parent, index, node


def apply_edit(tree: dict[str, Any], op: str, kind: str | None = None) -> dict[str, Any]:
    """Add a child of ``kind`` to the group at a path, or remove the node at a path."""
    action, _, path = op.partition(":")
    if not _PATH.match(path):
        raise PathwayError("Unknown edit.", field="requirements")
    parent, index, node = _locate(tree, path)
    if action == "add":
        if node.get("type") not in GROUP_KINDS:
            raise PathwayError(
                "Requirements can only be added inside a group.", field="requirements"
            )
        if kind not in KINDS:
            raise PathwayError("Choose what kind of requirement to add.", field="requirements")
        child: dict[str, Any] = {"type": kind}
        if kind in GROUP_KINDS:
            child["children"] = []
        if kind == "n_of":
            child["n"] = 1
        node.setdefault("children", []).append(child)
    elif action == "remove":
        if parent is None:
            return {"type": "all_of", "children": []}
        parent["children"].pop(index)
    else:
        raise PathwayError("Unknown edit.", field="requirements")
    return tree


def flatten(tree: Mapping[str, Any], path: str = "r", depth: int = 0) -> list[FormNode]:
    """Nodes in document order with their form paths, for rendering the nested list."""
    data = {key: value for key, value in tree.items() if key != "children"}
    if isinstance(data.get("pool"), list):
        data["pool"] = ", ".join(data["pool"])
    made = [FormNode(path, depth, data)]
    for index, child in enumerate(tree.get("children") or []):
        if isinstance(child, Mapping):
            made.extend(flatten(child, f"{path}.{index}", depth + 1))
    return made


def form_path(error_field: str | None) -> str | None:
    """``requirements.children[1].count`` → ``r.1`` (the node an error belongs to)."""
    if not error_field or not error_field.startswith("requirements"):
        return None
    indexes = re.findall(r"children\[(\d+)\]", error_field)
    return ".".join(["r", *indexes])

"""Requirement trees of a pathway: plain data, their JSON form, and the authoring-time checks.

A tree is made of :class:`Requirement` nodes. Groups combine children (``all_of``, ``any_of``,
``n_of``, and ``sequence``: children completed in order, each one's credentials earned no earlier
than the previous child was complete). Leaves name what counts: a ``credential`` (a catalogue
definition of any issuer, or an external achievement URI), a ``skill`` ("any N credentials aligned
to skill X"), ``credits`` (at least N ECTS or hours, optionally from a pool of definitions or
aligned to a skill) or another ``pathway`` completed. Any node may carry ``within_years``: only
credentials earned in the last N years count below it.

:func:`check_tree` refuses what can never be satisfied, given what the catalogue holds
(:class:`CatalogueFacts`), and :func:`find_cycle` refuses pathways that require one another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from microcred.i18n import L_, L_plural
from microcred.pathways.errors import PathwayError

Kind = Literal["all_of", "any_of", "n_of", "sequence", "credential", "skill", "credits", "pathway"]
Measure = Literal["ects", "hours"]
GROUP_KINDS: tuple[Kind, ...] = ("all_of", "any_of", "n_of", "sequence")
LEAF_KINDS: tuple[Kind, ...] = ("credential", "skill", "credits", "pathway")
KINDS: tuple[Kind, ...] = (*GROUP_KINDS, *LEAF_KINDS)
KIND_LABELS: dict[str, str] = {
    "all_of": "All of",
    "any_of": "Any one of",
    "n_of": "N of",
    "sequence": "In this order",
    "credential": "Credential",
    "skill": "Credentials aligned to a skill",
    "credits": "Minimum credits or hours",
    "pathway": "Another pathway",
}
MAX_NODES = 200
MAX_DEPTH = 12
MAX_YEARS = 50
MAX_LABEL = 200


@dataclass(frozen=True)
class Requirement:
    """One node; which fields matter depends on ``kind`` (see the module docstring)."""

    kind: Kind
    label: str = ""
    children: tuple[Requirement, ...] = ()
    n: int | None = None
    definition_id: str | None = None
    skill_uri: str | None = None
    count: int = 1
    amount: float = 0.0
    measure: Measure = "ects"
    pool: tuple[str, ...] = ()
    pathway_id: str | None = None
    within_years: int | None = None

    @property
    def is_group(self) -> bool:
        return self.kind in GROUP_KINDS

    def walk(self, path: str = "requirements") -> Iterator[tuple[str, Requirement]]:
        """Every node with its field path (``requirements.children[1]``), parents first."""
        yield path, self
        for index, child in enumerate(self.children):
            yield from child.walk(f"{path}.children[{index}]")

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """A one-line human description (``names`` maps ids and URIs to display names): the
        English text, shown in the reader's language through :func:`microcred.i18n.translate`
        (an author's label and the names are kept as written)."""
        names = names or {}
        text = self._what(names)
        if self.within_years:
            return L_plural(
                "%(what)s, earned within %(count)s year",
                "%(what)s, earned within %(count)s years",
                self.within_years,
                what=text,
            )
        return text

    def _what(self, names: Mapping[str, str]) -> str:
        if self.label:
            return self.label
        size = len(self.children)
        match self.kind:
            case "all_of":
                return L_("All of these %(count)s", count=size)
            case "any_of":
                return L_("Any one of these %(count)s", count=size)
            case "n_of":
                return L_("%(n)s of these %(count)s", n=self.n, count=size)
            case "sequence":
                return L_("These %(count)s, in order", count=size)
            case "credential":
                ref = self.definition_id or ""
                return names.get(ref, ref)
            case "skill":
                ref = self.skill_uri or ""
                return L_plural(
                    "%(count)s credential aligned to %(skill)s",
                    "%(count)s credentials aligned to %(skill)s",
                    self.count,
                    skill=names.get(ref, ref),
                )
            case "credits":
                amount = _number(self.amount)
                if self.pool:
                    return (
                        L_("At least %(amount)s ECTS from %(count)s listed credentials",
                           amount=amount, count=len(self.pool))
                        if self.measure == "ects"
                        else L_("At least %(amount)s hours from %(count)s listed credentials",
                                amount=amount, count=len(self.pool))
                    )  # fmt: skip
                if self.skill_uri:
                    skill = names.get(self.skill_uri, self.skill_uri)
                    return (
                        L_("At least %(amount)s ECTS aligned to %(skill)s",
                           amount=amount, skill=skill)
                        if self.measure == "ects"
                        else L_("At least %(amount)s hours aligned to %(skill)s",
                                amount=amount, skill=skill)
                    )  # fmt: skip
                return (
                    L_("At least %(amount)s ECTS", amount=amount)
                    if self.measure == "ects"
                    else L_("At least %(amount)s hours", amount=amount)
                )
            case "pathway":
                ref = self.pathway_id or ""
                return L_("Complete the pathway %(pathway)s", pathway=names.get(ref, ref))
        return self.kind


def _number(value: float) -> str:
    return f"{value:g}"


# --- JSON form --------------------------------------------------------------------------------


def to_dict(node: Requirement) -> dict[str, Any]:
    """The JSON form, with only the fields that matter for the node's kind."""
    data: dict[str, Any] = {"type": node.kind}
    if node.label:
        data["label"] = node.label
    if node.within_years is not None:
        data["within_years"] = node.within_years
    match node.kind:
        case "n_of":
            data["n"] = node.n
        case "credential":
            data["definition_id"] = node.definition_id
        case "skill":
            data["skill_uri"] = node.skill_uri
            data["count"] = node.count
        case "credits":
            data["amount"] = node.amount
            data["measure"] = node.measure
            if node.pool:
                data["pool"] = list(node.pool)
            if node.skill_uri:
                data["skill_uri"] = node.skill_uri
        case "pathway":
            data["pathway_id"] = node.pathway_id
        case _:
            pass
    if node.is_group:
        data["children"] = [to_dict(child) for child in node.children]
    return data


def _text(data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PathwayError(f"{key} is required for this requirement.", field=f"{path}.{key}")
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise PathwayError(f"{key} must be text (at most 500 characters).", field=f"{path}.{key}")
    return value.strip()


def _integer(data: Mapping[str, Any], key: str, path: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise PathwayError(f"{key} must be a whole number.", field=f"{path}.{key}")
    return value


def _amount(data: Mapping[str, Any], path: str) -> float:
    value = data.get("amount")
    try:
        number = float(value) if not isinstance(value, bool) and value is not None else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise PathwayError("amount must be a number.", field=f"{path}.amount")
    return number


def parse_requirement(data: Any, path: str = "requirements", depth: int = 0) -> Requirement:
    """A tree from its JSON form; a :class:`PathwayError` names the first bad field."""
    if not isinstance(data, Mapping):
        raise PathwayError("A requirement must be a JSON object.", field=path)
    if depth > MAX_DEPTH:
        raise PathwayError(f"The tree is deeper than {MAX_DEPTH} levels.", field=path)
    kind = data.get("type")
    if kind not in KINDS:
        raise PathwayError(f"type must be one of {', '.join(KINDS)}.", field=f"{path}.type")
    label = data.get("label") or ""
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise PathwayError(
            f"label must be text of at most {MAX_LABEL} characters.", field=f"{path}.label"
        )
    fields: dict[str, Any] = {
        "kind": kind,
        "label": label.strip(),
        "within_years": _integer(data, "within_years", path, None),
    }
    if kind in GROUP_KINDS:
        raw_children = data.get("children")
        if not isinstance(raw_children, list):
            raise PathwayError("children must be a list.", field=f"{path}.children")
        fields["children"] = tuple(
            parse_requirement(child, f"{path}.children[{index}]", depth + 1)
            for index, child in enumerate(raw_children)
        )
        if kind == "n_of":
            fields["n"] = _integer(data, "n", path, None)
            if fields["n"] is None:
                raise PathwayError("n is required for an n-of requirement.", field=f"{path}.n")
    elif kind == "credential":
        fields["definition_id"] = _text(data, "definition_id", path)
    elif kind == "skill":
        fields["skill_uri"] = _text(data, "skill_uri", path)
        fields["count"] = _integer(data, "count", path, 1)
    elif kind == "credits":
        fields["amount"] = _amount(data, path)
        measure = data.get("measure", "ects")
        if measure not in ("ects", "hours"):
            raise PathwayError("measure must be ects or hours.", field=f"{path}.measure")
        fields["measure"] = measure
        pool = data.get("pool") or []
        if not isinstance(pool, list) or not all(isinstance(item, str) for item in pool):
            raise PathwayError("pool must be a list of definition ids.", field=f"{path}.pool")
        fields["pool"] = tuple(dict.fromkeys(item.strip() for item in pool if item.strip()))
        fields["skill_uri"] = _text(data, "skill_uri", path, required=False)
    else:
        fields["pathway_id"] = _text(data, "pathway_id", path)
    return Requirement(**fields)


# --- authoring checks -------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueFacts:
    """What the catalogue says about the definitions and skills a tree names."""

    published: Mapping[str, float] = field(default_factory=dict)
    """Published definition id -> its credit in ECTS (0 when it has none)."""
    hours: Mapping[str, float] = field(default_factory=dict)
    retired: frozenset[str] = frozenset()
    """Definitions that exist but can no longer be earned (retired, superseded)."""
    aligned_count: Mapping[str, int] = field(default_factory=dict)
    """Skill URI -> how many published definitions are aligned to it."""
    pathways: frozenset[str] = frozenset()


def is_external_reference(reference: str) -> bool:
    """An achievement of an issuer outside this server (matched on imported credentials)."""
    return reference.startswith(("http://", "https://", "urn:", "did:"))


def _check_node(path: str, node: Requirement, facts: CatalogueFacts) -> None:
    fail: Callable[[str, str], PathwayError] = lambda message, key: PathwayError(  # noqa: E731
        message, field=f"{path}.{key}" if key else path
    )
    if node.within_years is not None and not 1 <= node.within_years <= MAX_YEARS:
        raise fail(f"within_years must be between 1 and {MAX_YEARS}.", "within_years")
    if node.is_group:
        size = len(node.children)
        if size == 0:
            raise fail("A group needs at least one requirement inside it.", "children")
        if node.kind == "sequence" and size < 2:
            raise fail("An ordered sequence needs at least two steps.", "children")
        if node.kind == "n_of":
            assert node.n is not None
            if node.n < 1:
                raise fail("n must be at least 1.", "n")
            if node.n > size:
                raise fail(f"Unsatisfiable: needs {node.n} of only {size} options.", "n")
        return
    if node.kind == "credential":
        reference = node.definition_id or ""
        if is_external_reference(reference):
            return
        if reference in facts.retired:
            raise fail(
                f"Definition {reference} is retired or superseded: it can no longer be earned.",
                "definition_id",
            )
        if reference not in facts.published:
            raise fail(f"Definition {reference} does not exist (deleted?).", "definition_id")
    elif node.kind == "skill":
        if node.count < 1:
            raise fail("count must be at least 1.", "count")
        available = facts.aligned_count.get(node.skill_uri or "", 0)
        if available < node.count:
            raise fail(
                f"Unsatisfiable: {node.count} credentials aligned to {node.skill_uri} are "
                f"needed but the catalogue has {available}.",
                "count",
            )
    elif node.kind == "credits":
        _check_credits(node, facts, fail)
    elif node.kind == "pathway" and node.pathway_id not in facts.pathways:
        raise fail(f"Pathway {node.pathway_id} does not exist.", "pathway_id")


def _check_credits(
    node: Requirement, facts: CatalogueFacts, fail: Callable[[str, str], PathwayError]
) -> None:
    if node.amount <= 0:
        raise fail("amount must be more than 0.", "amount")
    if not node.pool:
        return
    values = facts.published if node.measure == "ects" else facts.hours
    for index, reference in enumerate(node.pool):
        if reference in facts.retired:
            raise fail(f"Definition {reference} is retired or superseded.", f"pool[{index}]")
        if reference not in facts.published:
            raise fail(f"Definition {reference} does not exist (deleted?).", f"pool[{index}]")
    total = sum(values.get(reference, 0.0) for reference in node.pool)
    if total < node.amount:
        unit = "ECTS" if node.measure == "ects" else "hours"
        raise fail(
            f"Unsatisfiable: the listed credentials give {_number(total)} {unit} in all, "
            f"less than the {_number(node.amount)} required.",
            "amount",
        )


def check_tree(tree: Requirement, facts: CatalogueFacts) -> None:
    """Refuse a tree that is malformed, too big, names what does not exist, or cannot be met."""
    nodes = list(tree.walk())
    if len(nodes) > MAX_NODES:
        raise PathwayError(
            f"The tree has more than {MAX_NODES} requirements.", field="requirements"
        )
    for path, node in nodes:
        _check_node(path, node, facts)


def referenced_definitions(tree: Requirement) -> set[str]:
    """Catalogue definitions the tree names (leaves and credit pools), not external URIs."""
    found: set[str] = set()
    for _, node in tree.walk():
        for reference in (node.definition_id, *node.pool):
            if reference and not is_external_reference(reference):
                found.add(reference)
    return found


def referenced_skills(tree: Requirement) -> set[str]:
    return {node.skill_uri for _, node in tree.walk() if node.skill_uri}


def referenced_pathways(tree: Requirement) -> set[str]:
    return {node.pathway_id for _, node in tree.walk() if node.pathway_id}


def find_cycle(graph: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A cycle through ``start`` in "pathway requires pathway" edges, as a list of ids."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, trail = stack.pop()
        for target in graph.get(current, ()):
            if target == start:
                return [*trail, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*trail, target]))
    return None

"""Evaluating a requirement tree over a learner's achievements: done, left, shortest route.

Pure functions over plain data. An achievement counts only when it verifies (imported
credentials are re-verified before they get here), falls inside every ``within_years`` window
above it, and — under a ``sequence`` — was earned no earlier than the previous step was complete.
One achievement may count towards several requirements (as most stacking policies allow), and
towards a skill or credit requirement once per definition (a course earned twice is one course).

Each node is evaluated for its *earliest completion date*: a credential leaf is complete when the
first matching credential was earned, ``all_of`` at the latest child, ``any_of`` at the earliest,
``n_of`` at the n-th, a credit leaf when the running total reaches the amount. Progress is a
fraction per node built only from monotone pieces (mean, max, top-n mean, capped ratios), so
earning more can never lower it.

The shortest remaining route is a set of definitions to earn next, minimising the number of
credentials first and the study hours second:

* a credential leaf costs that credential; a skill leaf the cheapest (by hours) aligned
  definitions still missing; a credit leaf the largest-credit definitions first — which gives
  the fewest credentials that reach the amount — ties broken by fewer hours;
* ``any_of`` takes its cheapest child's route, ``n_of`` the cheapest routes of the missing
  children, ``all_of`` and ``sequence`` the union of their children's routes (a step after an
  incomplete step needs all of its credentials anew, since they must come later).

Choosing per node and merging is exact when no definition serves two branches; when one does,
the merged route is still sufficient and never longer than the sum of the branches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from microcred.i18n import L_
from microcred.pathways.requirements import Requirement, is_external_reference

NEVER = datetime.max.replace(tzinfo=UTC)
"""A lower bound no credential can meet: the steps after an incomplete step of a sequence."""


@dataclass(frozen=True)
class Achievement:
    """One credential the learner holds, as the evaluator needs it."""

    key: str
    name: str
    definition_id: str | None
    """A catalogue definition id, or the achievement URI of an external credential."""
    earned_at: datetime
    issuer_id: str | None = None
    skills: frozenset[str] = frozenset()
    ects: float = 0.0
    hours: float = 0.0
    verified: bool = True
    source: str = "issued"


@dataclass(frozen=True)
class Offering:
    """A definition that can still be earned: what a route is made of."""

    definition_id: str
    name: str
    ects: float = 0.0
    hours: float = 0.0
    skills: frozenset[str] = frozenset()
    issuer_id: str | None = None


@dataclass(frozen=True)
class Route:
    """Definitions to earn next, in the order the tree names them."""

    definition_ids: tuple[str, ...] = ()
    hours: float = 0.0
    reachable: bool = True

    @property
    def credentials(self) -> int:
        return len(self.definition_ids)

    @property
    def cost(self) -> tuple[int, float]:
        return (len(self.definition_ids), self.hours)


UNREACHABLE = Route(reachable=False)


@dataclass
class NodeProgress:
    path: str
    node: Requirement
    satisfied: bool
    progress: float
    completed_at: datetime | None
    used: tuple[str, ...] = ()
    summary: str = ""
    route: Route = field(default_factory=Route)
    children: list[NodeProgress] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return int(self.progress * 100 + 1e-9)

    def leaves(self) -> list[NodeProgress]:
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


@dataclass
class Progress:
    root: NodeProgress
    evaluated_at: datetime

    @property
    def complete(self) -> bool:
        return self.root.satisfied

    @property
    def route(self) -> Route:
        return self.root.route

    @property
    def done(self) -> list[NodeProgress]:
        return [leaf for leaf in self.root.leaves() if leaf.satisfied]

    @property
    def left(self) -> list[NodeProgress]:
        return [leaf for leaf in self.root.leaves() if not leaf.satisfied]

    def used_keys(self) -> list[str]:
        """Achievements that count towards the tree, in the order they were first used."""
        keys: dict[str, None] = {}
        for leaf in self.done:
            keys.update(dict.fromkeys(leaf.used))
        return list(keys)


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _merge(routes: Iterable[Route], offerings: Mapping[str, Offering]) -> Route:
    chosen: dict[str, None] = {}
    for route in routes:
        if not route.reachable:
            return UNREACHABLE
        chosen.update(dict.fromkeys(route.definition_ids))
    return _route(chosen, offerings)


def _route(definition_ids: Iterable[str], offerings: Mapping[str, Offering]) -> Route:
    ids = tuple(dict.fromkeys(definition_ids))
    hours = sum(offerings[i].hours for i in ids if i in offerings)
    return Route(ids, hours)


def _first_per_definition(achievements: Iterable[Achievement]) -> list[Achievement]:
    """The earliest achievement of each definition, oldest first."""
    first: dict[str, Achievement] = {}
    for item in sorted(achievements, key=lambda a: (a.earned_at, a.key)):
        first.setdefault(item.definition_id or item.key, item)
    return list(first.values())


@dataclass
class Evaluator:
    achievements: Sequence[Achievement]
    now: datetime
    offerings: Mapping[str, Offering] = field(default_factory=dict)
    pathways: Mapping[str, Requirement] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    _visiting: set[str] = field(default_factory=set)

    def evaluate(self, tree: Requirement) -> Progress:
        return Progress(self.node(tree, "requirements", None), self.now)

    def eligible(self, earliest: datetime | None) -> list[Achievement]:
        return [
            item
            for item in self.achievements
            if item.verified and (earliest is None or item.earned_at >= earliest)
        ]

    def node(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        if node.within_years is not None:
            window = years_before(self.now, node.within_years)
            earliest = window if earliest is None else max(earliest, window)
        handler: Callable[[Requirement, str, datetime | None], NodeProgress] = getattr(
            self, f"_{node.kind}"
        )
        return handler(node, path, earliest)

    def _children(
        self, node: Requirement, path: str, earliest: datetime | None
    ) -> list[NodeProgress]:
        return [
            self.node(child, f"{path}.children[{index}]", earliest)
            for index, child in enumerate(node.children)
        ]

    def _all_of(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        children = self._children(node, path, earliest)
        satisfied = all(child.satisfied for child in children)
        done = sum(child.satisfied for child in children)
        return NodeProgress(
            path, node, satisfied,
            sum(child.progress for child in children) / len(children),
            max(c.completed_at for c in children if c.completed_at) if satisfied else None,
            summary=L_("%(done)s of %(count)s done", done=done, count=len(children)),
            route=_merge((child.route for child in children), self.offerings),
            children=children,
        )  # fmt: skip

    def _any_of(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        return self._n_of(replace(node, n=1), path, earliest, shown=node)

    def _n_of(
        self,
        node: Requirement,
        path: str,
        earliest: datetime | None,
        shown: Requirement | None = None,
    ) -> NodeProgress:
        children = self._children(node, path, earliest)
        needed = node.n or 1
        finished = sorted(c.completed_at for c in children if c.satisfied and c.completed_at)
        satisfied = len(finished) >= needed
        top = sorted((child.progress for child in children), reverse=True)[:needed]
        if satisfied:
            route = Route()
        else:
            missing = needed - len(finished)
            options = sorted(
                (c.route for c in children if not c.satisfied and c.route.reachable),
                key=lambda r: r.cost,
            )
            route = (
                _merge(options[:missing], self.offerings)
                if len(options) >= missing
                else UNREACHABLE
            )
        return NodeProgress(
            path, shown or node, satisfied, sum(top) / needed,
            finished[needed - 1] if satisfied else None,
            summary=L_(
                "%(done)s of %(needed)s needed done",
                done=min(len(finished), needed), needed=needed,
            ),
            route=route, children=children,
        )  # fmt: skip

    def _sequence(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        children: list[NodeProgress] = []
        bound = earliest
        for index, child in enumerate(node.children):
            result = self.node(child, f"{path}.children[{index}]", bound)
            children.append(result)
            bound = result.completed_at if result.satisfied else NEVER
        satisfied = all(child.satisfied for child in children)
        done = sum(child.satisfied for child in children)
        return NodeProgress(
            path, node, satisfied,
            sum(child.progress for child in children) / len(children),
            children[-1].completed_at if satisfied else None,
            summary=L_(
                "%(done)s of %(count)s steps done, in order", done=done, count=len(children)
            ),
            route=_merge((child.route for child in children), self.offerings),
            children=children,
        )  # fmt: skip

    def _credential(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        reference = node.definition_id or ""
        matches = _first_per_definition(
            item for item in self.eligible(earliest) if item.definition_id == reference
        )
        if matches:
            first = matches[0]
            return NodeProgress(
                path,
                node,
                True,
                1.0,
                first.earned_at,
                (first.key,),
                L_("Earned: %(name)s", name=first.name),
            )
        known = reference in self.offerings or is_external_reference(reference)
        return NodeProgress(
            path, node, False, 0.0, None, summary=L_("Not earned yet"),
            route=_route([reference], self.offerings) if known else UNREACHABLE,
        )  # fmt: skip

    def _skill(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        uri = node.skill_uri or ""
        matches = _first_per_definition(
            item for item in self.eligible(earliest) if uri in item.skills
        )
        needed = node.count
        summary = L_(
            "%(done)s of %(needed)s aligned credentials",
            done=min(len(matches), needed), needed=needed,
        )  # fmt: skip
        if len(matches) >= needed:
            used = matches[:needed]
            return NodeProgress(
                path, node, True, 1.0, used[-1].earned_at,
                tuple(a.key for a in used), summary,
            )  # fmt: skip
        have = {item.definition_id for item in matches}
        candidates = sorted(
            (o for o in self.offerings.values() if uri in o.skills and o.definition_id not in have),
            key=lambda o: (o.hours, o.name, o.definition_id),
        )
        missing = needed - len(matches)
        route = (
            _route((o.definition_id for o in candidates[:missing]), self.offerings)
            if len(candidates) >= missing
            else UNREACHABLE
        )
        return NodeProgress(
            path, node, False, len(matches) / needed, None,
            tuple(a.key for a in matches), summary, route,
        )  # fmt: skip

    def _counts_for(self, node: Requirement, item_skills: frozenset[str], reference: str) -> bool:
        if node.pool:
            return reference in node.pool
        return not node.skill_uri or node.skill_uri in item_skills

    def _credits(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        def value(ects: float, hours: float) -> float:
            return ects if node.measure == "ects" else hours

        matches = _first_per_definition(
            item
            for item in self.eligible(earliest)
            if self._counts_for(node, item.skills, item.definition_id or "")
            and value(item.ects, item.hours) > 0
        )
        total, used, completed_at = 0.0, [], None
        for item in matches:
            total += value(item.ects, item.hours)
            used.append(item.key)
            if total >= node.amount - 1e-9:
                completed_at = item.earned_at
                break
        counted = {"done": f"{min(total, node.amount):g}", "needed": f"{node.amount:g}"}
        summary = (
            L_("%(done)s of %(needed)s ECTS", **counted)
            if node.measure == "ects"
            else L_("%(done)s of %(needed)s hours", **counted)
        )
        if completed_at is not None:
            return NodeProgress(path, node, True, 1.0, completed_at, tuple(used), summary)
        have = {item.definition_id for item in matches}
        candidates = sorted(
            (
                o
                for o in self.offerings.values()
                if o.definition_id not in have
                and self._counts_for(node, o.skills, o.definition_id)
                and value(o.ects, o.hours) > 0
            ),
            key=lambda o: (-value(o.ects, o.hours), o.hours, o.definition_id),
        )
        chosen: list[str] = []
        remaining = node.amount - total
        for offering in candidates:
            if remaining <= 1e-9:
                break
            chosen.append(offering.definition_id)
            remaining -= value(offering.ects, offering.hours)
        route = _route(chosen, self.offerings) if remaining <= 1e-9 else UNREACHABLE
        return NodeProgress(
            path, node, False, min(1.0, total / node.amount), None, tuple(used), summary, route
        )

    def _pathway(self, node: Requirement, path: str, earliest: datetime | None) -> NodeProgress:
        reference = node.pathway_id or ""
        tree = self.pathways.get(reference)
        if tree is None or reference in self._visiting:
            return NodeProgress(
                path, node, False, 0.0, None, summary=L_("Unknown pathway"), route=UNREACHABLE
            )
        self._visiting.add(reference)
        try:
            inner = self.node(tree, f"{path}.pathway", earliest)
        finally:
            self._visiting.discard(reference)
        return NodeProgress(
            path, node, inner.satisfied, inner.progress, inner.completed_at,
            summary=inner.summary, route=inner.route, children=[inner],
        )  # fmt: skip


def evaluate(
    tree: Requirement,
    achievements: Sequence[Achievement],
    *,
    now: datetime,
    offerings: Mapping[str, Offering] | None = None,
    pathways: Mapping[str, Requirement] | None = None,
) -> Progress:
    """Progress of ``achievements`` through ``tree`` at ``now`` (see the module docstring)."""
    return Evaluator(achievements, now, offerings or {}, pathways or {}).evaluate(tree)


def route_achievements(
    route: Route, offerings: Mapping[str, Offering], earned_at: datetime
) -> list[Achievement]:
    """The achievements a learner would hold after following ``route`` (what-if, and tests)."""
    made: list[Achievement] = []
    for reference in route.definition_ids:
        offering = offerings.get(reference)
        made.append(
            Achievement(
                key=f"planned:{reference}",
                name=offering.name if offering else reference,
                definition_id=reference,
                earned_at=earned_at,
                issuer_id=offering.issuer_id if offering else None,
                skills=offering.skills if offering else frozenset(),
                ects=offering.ects if offering else 0.0,
                hours=offering.hours if offering else 0.0,
            )
        )
    return made

"""Choosing micro-credentials that close a skill gap: pure functions over plain data.

The planner gets what the target job needs (each skill weighted, with the reasons for its
weight), what the learner already holds, the catalogue's offers and the learner's limits
(budget, hours a week, a deadline, formats, languages). It picks offers greedily by the weight
of still-missing skills each covers per unit of cost — price and hours both count, each scaled
by the typical offer so that neither dominates — adding an offer's unmet prerequisites with it,
then drops any pick that others made redundant. Greedy weighted set cover is within a factor
ln(n) of the best cover and, unlike an exact search, every pick has a one-line reason.
Each step of the plan says which needs it covers and why each matters; skills the plan leaves
open say why (nothing here teaches them, or only beyond the limits).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from microcred.i18n import L_, Joined, L_plural

DEFAULT_HOURS_PER_WEEK = 8.0


@dataclass(frozen=True)
class Need:
    """One skill the target job needs, weighted, with the reasons for its weight."""

    uri: str
    label: str
    weight: float
    reasons: tuple[str, ...]
    essential: bool = False


@dataclass(frozen=True)
class Offer:
    """One published micro-credential as the planner sees it."""

    definition_id: str
    name: str
    issuer_name: str
    skills: frozenset[str]
    price: float = 0.0
    currency: str | None = None
    hours: float = 0.0
    weeks: float | None = None
    eqf_level: int | None = None
    participation_form: str = "online"
    language: str = "en"
    prerequisites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    budget: float | None = None
    currency: str | None = None
    hours_per_week: float = DEFAULT_HOURS_PER_WEEK
    max_weeks: float | None = None
    forms: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Step:
    offer: Offer
    covers: tuple[Need, ...]
    start_week: float
    end_week: float
    reason: str
    prerequisite_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Open:
    """A needed skill the plan does not cover, and why."""

    need: Need
    reason: str


@dataclass
class Plan:
    steps: list[Step]
    held: list[Need]
    open: list[Open]
    total_weight: float
    held_weight: float
    plan_weight: float
    total_price: dict[str, float] = field(default_factory=dict)
    total_hours: float = 0.0
    total_weeks: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def coverage_before(self) -> float:
        return self.held_weight / self.total_weight if self.total_weight else 0.0

    @property
    def coverage_after(self) -> float:
        if not self.total_weight:
            return 0.0
        return (self.held_weight + self.plan_weight) / self.total_weight


def offer_weeks(offer: Offer, hours_per_week: float) -> float:
    """Weeks an offer takes at the learner's pace: its own duration, or longer if its hours
    need it."""
    by_hours = offer.hours / hours_per_week if hours_per_week > 0 else 0.0
    return max(offer.weeks or 0.0, by_hours)


def _excluded(offer: Offer, limits: Limits) -> str | None:
    if limits.forms and offer.participation_form not in limits.forms:
        return L_("only %(form)s", form=offer.participation_form)
    if limits.languages and offer.language.split("-")[0] not in limits.languages:
        return L_("taught in %(language)s", language=offer.language)
    if (
        limits.budget is not None
        and offer.price > 0
        and limits.currency
        and (offer.currency or "").upper() != limits.currency.upper()
    ):
        return L_("priced in %(currency)s", currency=offer.currency or L_("an unknown currency"))
    return None


def _scale(values: Iterable[float], fallback: float) -> float:
    positive = [v for v in values if v > 0]
    return statistics.median(positive) if positive else fallback


def _with_prerequisites(
    offer: Offer, offers: Mapping[str, Offer], have: set[str], chosen: set[str]
) -> list[Offer] | None:
    """The offer with its unmet prerequisites (prerequisites first); None when one is missing
    from the catalogue or the chain loops."""
    order: list[Offer] = []
    seen: set[str] = set()

    def visit(item: Offer, depth: int) -> bool:
        if depth > 20 or item.definition_id in seen:
            return item.definition_id in seen and depth <= 20
        seen.add(item.definition_id)
        for prerequisite in item.prerequisites:
            if prerequisite in have or prerequisite in chosen:
                continue
            found = offers.get(prerequisite)
            if found is None or not visit(found, depth + 1):
                return False
        order.append(item)
        return True

    return order if visit(offer, 0) else None


def make_plan(
    needs: Sequence[Need],
    held_skills: Iterable[str],
    offers: Sequence[Offer],
    limits: Limits,
    *,
    completed: Iterable[str] = (),
) -> Plan:
    """The plan for ``needs`` given the skills held, the offers and the limits.

    ``completed`` are definition ids the learner already holds a credential of: never offered
    again, and they satisfy prerequisites.
    """
    held_set, have = set(held_skills), set(completed)
    by_uri = {need.uri: need for need in needs}
    held = [need for need in needs if need.uri in held_set]
    gap = {uri: need for uri, need in by_uri.items() if uri not in held_set}
    excluded: dict[str, tuple[str, frozenset[str]]] = {}
    usable: dict[str, Offer] = {}
    for offer in offers:
        if offer.definition_id in have:
            continue
        reason = _excluded(offer, limits)
        if reason is None:
            usable[offer.definition_id] = offer
        elif offer.skills & gap.keys():
            excluded[offer.definition_id] = (reason, offer.skills)
    price_scale = _scale((o.price for o in usable.values()), 100.0)
    hours_scale = _scale((o.hours for o in usable.values()), 20.0)
    max_hours = limits.max_weeks * limits.hours_per_week if limits.max_weeks is not None else None
    chosen: list[Offer] = []
    chosen_ids: set[str] = set()
    covered: set[str] = set()
    spent, hours = 0.0, 0.0
    blocked: dict[str, str] = {}
    while True:
        best: tuple[float, float, float, str, list[Offer]] | None = None
        for offer in usable.values():
            if offer.definition_id in chosen_ids:
                continue
            gain = sum(gap[u].weight for u in offer.skills & gap.keys() if u not in covered)
            if gain <= 0:
                continue
            bundle = _with_prerequisites(offer, usable, have, chosen_ids)
            if bundle is None:
                blocked[offer.definition_id] = L_("a prerequisite is not offered")
                continue
            cost = sum(o.price for o in bundle)
            time = sum(o.hours for o in bundle)
            if limits.budget is not None and spent + cost > limits.budget + 1e-9:
                blocked[offer.definition_id] = L_("over your budget")
                continue
            if max_hours is not None and hours + time > max_hours + 1e-9:
                blocked[offer.definition_id] = L_("beyond your deadline")
                continue
            score = gain / (1.0 + cost / price_scale + time / hours_scale)
            key = (score, -cost, -time, offer.name, bundle)
            if best is None or key[:4] > best[:4]:
                best = key
        if best is None:
            break
        for offer in best[4]:
            chosen.append(offer)
            chosen_ids.add(offer.definition_id)
            covered |= offer.skills & gap.keys()
            spent += offer.price
            hours += offer.hours
    chosen = _without_redundant(chosen, gap)
    return _assemble(needs, held, gap, chosen, usable, excluded, blocked, limits)


def _without_redundant(chosen: list[Offer], gap: Mapping[str, Need]) -> list[Offer]:
    """Drop picks whose needs the others cover (latest pick first), and prerequisites no kept
    pick needs any more, until nothing changes."""
    kept = list(chosen)
    changed = True
    while changed:
        changed = False
        for offer in reversed(kept):
            others = [o for o in kept if o is not offer]
            if any(offer.definition_id in o.prerequisites for o in others):
                continue
            own = offer.skills & gap.keys()
            if own <= set().union(*(o.skills for o in others)):
                kept, changed = others, True
                break
    return kept


def _ordered(chosen: list[Offer]) -> list[Offer]:
    """Prerequisites first; otherwise lower EQF level first, then the shorter."""
    ids = {o.definition_id for o in chosen}
    remaining = sorted(chosen, key=lambda o: (o.eqf_level or 0, o.hours, o.name))
    done: set[str] = set()
    ordered: list[Offer] = []
    while remaining:
        ready = next(
            (o for o in remaining if all(p in done or p not in ids for p in o.prerequisites)),
            remaining[0],
        )
        ordered.append(ready)
        done.add(ready.definition_id)
        remaining.remove(ready)
    return ordered


def _money(amount: float, currency: str | None) -> str:
    return L_("free") if amount <= 0 else f"{amount:,.0f} {currency or ''}".strip()


def _assemble(
    needs: Sequence[Need],
    held: list[Need],
    gap: Mapping[str, Need],
    chosen: list[Offer],
    usable: Mapping[str, Offer],
    excluded: Mapping[str, tuple[str, frozenset[str]]],
    blocked: Mapping[str, str],
    limits: Limits,
) -> Plan:
    steps: list[Step] = []
    covered: set[str] = set()
    week = 0.0
    totals: dict[str, float] = {}
    for offer in _ordered(chosen):
        new = tuple(
            sorted(
                (gap[u] for u in offer.skills & gap.keys() if u not in covered),
                key=lambda n: (-n.weight, n.label.lower()),
            )
        )
        covered |= {n.uri for n in new}
        length = offer_weeks(offer, limits.hours_per_week)
        dependants = tuple(o.name for o in chosen if offer.definition_id in o.prerequisites)
        cost = _money(offer.price, offer.currency)
        if new:
            names = ", ".join(n.label for n in new[:4]) + (" …" if len(new) > 4 else "")
            reason = L_plural(
                "Covers %(count)s missing skill (%(names)s) for %(cost)s, %(hours)s h.",
                "Covers %(count)s missing skills (%(names)s) for %(cost)s, %(hours)s h.",
                len(new),
                names=names,
                cost=cost,
                hours=f"{offer.hours:g}",
            )
        else:
            reason = L_(
                "Required before %(dependants)s (%(cost)s, %(hours)s h).",
                dependants=", ".join(dependants),
                cost=cost,
                hours=f"{offer.hours:g}",
            )
        steps.append(Step(offer, new, round(week, 1), round(week + length, 1), reason, dependants))
        week += length
        if offer.price > 0:
            key = (offer.currency or "").upper()
            totals[key] = totals.get(key, 0.0) + offer.price
    open_needs = []
    for need in sorted(gap.values(), key=lambda n: (-n.weight, n.label.lower())):
        if need.uri in covered:
            continue
        teachers = [o for o in usable.values() if need.uri in o.skills]
        reasons = sorted(
            {blocked[o.definition_id] for o in teachers if o.definition_id in blocked}
            | {why for why, skills in excluded.values() if need.uri in skills}
        )
        if reasons:
            reason = L_("Taught here, but %(reasons)s.", reasons=Joined(" / ", reasons))
        elif teachers:
            reason = L_("Taught here, but not worth its cost against the rest of the plan.")
        else:
            reason = L_("No published micro-credential here teaches it.")
        open_needs.append(Open(need, reason))
    total_weight = sum(n.weight for n in needs)
    return Plan(
        steps=steps,
        held=held,
        open=open_needs,
        total_weight=total_weight,
        held_weight=sum(n.weight for n in held),
        plan_weight=sum(gap[u].weight for u in covered),
        total_price=totals,
        total_hours=sum(o.offer.hours for o in steps),
        total_weeks=round(week, 1),
    )

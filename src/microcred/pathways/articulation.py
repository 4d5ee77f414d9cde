"""Articulation rules and transfer evaluation: which external credentials earn which course credit.

Pure functions over plain data. A rule accepts credentials by definition, by issuer, or by skill
with a credit profile (minimum ECTS, minimum EQF level, earned within N years), for one course of
the institution's programme. For each credential the most specific matching rule wins
(definition, then issuer, then skill; then the order the registrar gave), a course is credited
at most once, and the programme's cap on transfer credit is respected. Every credential gets a
reason, credited or not.

Conflicts are refused when a rule is added: a course has one credit value and one name within
an agreement, and two rules may not accept the same credentials for the same course.

A credit recommendation is recorded by the micro-credential's own issuer (see
:func:`check_recommender`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from microcred.pathways.errors import ArticulationConflict, PathwayError
from microcred.pathways.progress import years_before

ECTS_PER_CREDIT_HOUR = 2.0
"""US semester credit hours to ECTS, the conversion most European registrars use."""
SPECIFICITY = {"definition": 0, "issuer": 1, "skill": 2}


@dataclass(frozen=True)
class Rule:
    match_kind: str
    match_value: str
    course_code: str
    course_name: str
    credits: float
    min_credits: float | None = None
    min_eqf_level: int | None = None
    within_years: int | None = None
    position: int = 0
    id: str = ""
    label: str = ""
    """What ``match_value`` names, for people: the credential's, issuer's or skill's name."""

    @property
    def match_key(self) -> tuple[str, str, float | None, int | None, int | None]:
        return (
            self.match_kind, self.match_value, self.min_credits, self.min_eqf_level,
            self.within_years,
        )  # fmt: skip

    def describe(self) -> str:
        what = {"definition": "credential", "issuer": "any credential of issuer", "skill": "skill"}
        conditions = []
        if self.min_credits is not None:
            conditions.append(f"at least {self.min_credits:g} ECTS")
        if self.min_eqf_level is not None:
            conditions.append(f"EQF level {self.min_eqf_level} or above")
        if self.within_years is not None:
            conditions.append(f"earned within {self.within_years} years")
        suffix = f" ({', '.join(conditions)})" if conditions else ""
        named = f"'{self.label}'" if self.label else self.match_value
        return f"{what[self.match_kind]} {named}{suffix}"


@dataclass(frozen=True)
class Holding:
    """A credential the learner holds, with its credit profile."""

    key: str
    name: str
    definition_id: str | None
    issuer_ids: frozenset[str]
    """Every id the issuer is known by (organisation id, slug, did:web, profile URL)."""
    issuer_name: str
    skills: frozenset[str]
    ects: float
    eqf_level: int | None
    earned_at: datetime
    verified: bool = True
    credential: dict[str, object] | None = None


@dataclass(frozen=True)
class TransferItem:
    holding: Holding
    credited: bool
    reason: str
    rule: Rule | None = None
    credits: float = 0.0


@dataclass
class TransferResult:
    items: list[TransferItem] = field(default_factory=list)
    max_credits: float | None = None

    @property
    def total(self) -> float:
        return sum(item.credits for item in self.items)

    @property
    def credited(self) -> list[TransferItem]:
        return [item for item in self.items if item.credited]


def find_conflict(existing: Sequence[Rule], new: Rule) -> None:
    """Raise :class:`ArticulationConflict` when ``new`` contradicts a rule already there."""
    for index, rule in enumerate(existing, start=1):
        if rule.course_code == new.course_code and (
            rule.credits != new.credits or rule.course_name != new.course_name
        ):
            raise ArticulationConflict(
                f"Conflicts with rule {index}: course {rule.course_code} is already "
                f"'{rule.course_name}' worth {rule.credits:g} credits.",
                field="course_code",
            )
        if rule.match_key == new.match_key and rule.course_code == new.course_code:
            raise ArticulationConflict(
                f"Conflicts with rule {index}: it already accepts {rule.describe()} for "
                f"course {rule.course_code}.",
                field="match_value",
            )


def check_recommender(
    organisation_id: str, organisation_name: str, issuer_id: str, issuer_name: str,
    definition_name: str,
) -> None:  # fmt: skip
    """Refuse a credit recommendation recorded by anyone but the micro-credential's issuer: it
    shows on the definition's page and raises the credential's credit in every institution's
    transfer evaluations, so no other organisation may attach one."""
    if issuer_id != organisation_id:
        raise PathwayError(
            f"'{definition_name}' is {issuer_name}'s micro-credential: {organisation_name} "
            "records credit recommendations for its own micro-credentials only.",
            field="definition_id", status_code=422,
        )  # fmt: skip


def _matches(rule: Rule, holding: Holding) -> bool:
    if rule.match_kind == "definition":
        return holding.definition_id == rule.match_value
    if rule.match_kind == "issuer":
        return rule.match_value in holding.issuer_ids
    return rule.match_value in holding.skills


def _unmet(rule: Rule, holding: Holding, now: datetime) -> str | None:
    if rule.min_credits is not None and holding.ects < rule.min_credits:
        return f"{holding.ects:g} ECTS is below the {rule.min_credits:g} ECTS required"
    if rule.min_eqf_level is not None and (holding.eqf_level or 0) < rule.min_eqf_level:
        level = holding.eqf_level or "unknown"
        return f"EQF level {level} is below the level {rule.min_eqf_level} required"
    if rule.within_years is not None and holding.earned_at < years_before(now, rule.within_years):
        return f"earned more than {rule.within_years} years ago"
    return None


def evaluate_transfer(
    rules: Sequence[Rule],
    holdings: Sequence[Holding],
    *,
    now: datetime,
    max_credits: float | None = None,
) -> TransferResult:
    """The credit each holding earns under ``rules``, with the reason for each."""
    result = TransferResult(max_credits=max_credits)
    credited_courses: dict[str, str] = {}
    ordered_rules = sorted(rules, key=lambda r: (SPECIFICITY[r.match_kind], r.position))
    for holding in sorted(holdings, key=lambda h: (h.earned_at, h.key)):
        if not holding.verified:
            result.items.append(TransferItem(holding, False, "Does not verify: not counted."))
            continue
        candidates = [rule for rule in ordered_rules if _matches(rule, holding)]
        if not candidates:
            result.items.append(
                TransferItem(holding, False, "No rule of this agreement accepts it.")
            )
            continue
        reasons: list[str] = []
        item: TransferItem | None = None
        for rule in candidates:
            unmet = _unmet(rule, holding, now)
            if unmet:
                reasons.append(f"{rule.course_code}: {unmet}")
                continue
            if rule.course_code in credited_courses:
                reasons.append(
                    f"{rule.course_code} is already credited for "
                    f"{credited_courses[rule.course_code]}"
                )
                continue
            if max_credits is not None and result.total + rule.credits > max_credits + 1e-9:
                reasons.append(
                    f"{rule.course_code} would pass the programme's cap of {max_credits:g} credits"
                )
                continue
            credited_courses[rule.course_code] = holding.name
            item = TransferItem(
                holding, True,
                f"Credited for {rule.course_code} {rule.course_name}: accepts {rule.describe()}.",
                rule, rule.credits,
            )  # fmt: skip
            break
        result.items.append(
            item or TransferItem(holding, False, "Not credited: " + "; ".join(reasons) + ".")
        )
    return result

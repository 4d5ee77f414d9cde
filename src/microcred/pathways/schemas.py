"""Pydantic models of the pathways, wallet and articulation JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from microcred.pathways.articulation import TransferItem
from microcred.pathways.models import (
    ArticulationAgreement,
    ArticulationRule,
    CreditRecommendation,
    Pathway,
    PathwayAward,
)
from microcred.pathways.progress import NodeProgress
from microcred.pathways.service import PathwayProgress, TransferEvaluation
from microcred.wallet.models import ImportedCredential


class PathwayIn(BaseModel):
    name: str = Field(max_length=200)
    kind: Literal["certificate", "micro-degree", "degree-credit"]
    requirements: dict[str, Any] = Field(
        description="The requirement tree (see docs/pathways.md), e.g. "
        '{"type": "all_of", "children": [{"type": "credential", "definition_id": "…"}]}'
    )
    description: str = Field(default="", max_length=5000)
    qualification_definition_id: str | None = Field(default=None, max_length=32)
    revocation_policy: Literal["keep", "revoke", "review"] = "review"
    organisation: str | None = Field(default=None, description="Slug or id (creation only)")
    publish: bool = False


class PathwayOut(BaseModel):
    id: str
    organisation_id: str
    name: str
    description: str
    kind: str
    status: str
    requirements: dict[str, Any]
    qualification_definition_id: str | None
    revocation_policy: str

    @classmethod
    def of(cls, row: Pathway) -> PathwayOut:
        return cls(
            id=row.id, organisation_id=row.organisation_id, name=row.name,
            description=row.description, kind=row.kind.value, status=row.status.value,
            requirements=row.requirements,
            qualification_definition_id=row.qualification_definition_id,
            revocation_policy=row.revocation_policy.value,
        )  # fmt: skip


class StatusIn(BaseModel):
    status: Literal["draft", "published", "archived"]


class NodeOut(BaseModel):
    path: str
    type: str
    description: str
    satisfied: bool
    percent: int
    summary: str
    completed_at: datetime | None
    used: list[str]
    children: list[NodeOut]

    @classmethod
    def of(cls, node: NodeProgress, names: dict[str, str]) -> NodeOut:
        return cls(
            path=node.path, type=node.node.kind, description=node.node.describe(names),
            satisfied=node.satisfied, percent=node.percent, summary=node.summary,
            completed_at=node.completed_at, used=list(node.used),
            children=[cls.of(child, names) for child in node.children],
        )  # fmt: skip


class RouteStepOut(BaseModel):
    definition_id: str
    name: str
    hours: float
    ects: float


class ProgressOut(BaseModel):
    pathway_id: str
    pathway_name: str
    complete: bool
    percent: int
    done: list[str]
    left: list[str]
    route: list[RouteStepOut]
    route_reachable: bool
    route_hours: float
    award_id: str | None
    award_state: str | None
    tree: NodeOut

    @classmethod
    def of(cls, result: PathwayProgress) -> ProgressOut:
        progress, names = result.progress, result.names
        steps = []
        for reference in progress.route.definition_ids:
            offering = result.offerings.get(reference)
            steps.append(
                RouteStepOut(
                    definition_id=reference,
                    name=offering.name if offering else reference,
                    hours=offering.hours if offering else 0.0,
                    ects=offering.ects if offering else 0.0,
                )
            )
        return cls(
            pathway_id=result.pathway.id, pathway_name=result.pathway.name,
            complete=progress.complete, percent=progress.root.percent,
            done=[leaf.node.describe(names) for leaf in progress.done],
            left=[leaf.node.describe(names) for leaf in progress.left],
            route=steps, route_reachable=progress.route.reachable,
            route_hours=progress.route.hours,
            award_id=result.award.id if result.award else None,
            award_state=result.award.state.value if result.award else None,
            tree=NodeOut.of(progress.root, names),
        )  # fmt: skip


class AwardOut(BaseModel):
    id: str
    pathway_id: str
    state: str
    credential_id: str | None
    awarded_at: datetime
    state_reason: str | None
    final: bool = Field(
        description="Revoked for good (with its qualification credential or by staff): progress "
        "does not award the pathway again until staff re-award it"
    )
    components: list[str]

    @classmethod
    def of(cls, row: PathwayAward) -> AwardOut:
        return cls(
            id=row.id, pathway_id=row.pathway_id, state=row.state.value,
            credential_id=row.credential_id, awarded_at=row.awarded_at,
            state_reason=row.state_reason, final=bool(row.final), components=list(row.components),
        )  # fmt: skip


class AwardRevokeIn(BaseModel):
    reason: str = Field(description="Why (kept, never published)", min_length=1)


class ReawardOut(BaseModel):
    reopened: AwardOut = Field(description="The award revoked for good, now open again")
    awarded: AwardOut | None = Field(
        description="The new award when the learner still meets the pathway, else null (a later "
        "progress evaluation awards it once met)"
    )


class ImportIn(BaseModel):
    credential: str | dict[str, Any] = Field(
        description="OB 3.0 JSON or VC-JWT, an OB 2.0 assertion (JSON, hosted) or JWS (signed), "
        "or a base64 data URL of a baked PNG/SVG"
    )


class CheckOut(BaseModel):
    name: str
    status: str
    reason: str


class ImportedOut(BaseModel):
    id: str
    source_format: str
    issuer_id: str
    issuer_name: str
    achievement_id: str
    achievement_name: str
    definition_id: str | None
    skills: list[str]
    ects: float
    hours: float
    earned_at: datetime
    verified: bool
    verified_at: datetime
    checks: list[CheckOut]

    @classmethod
    def of(cls, row: ImportedCredential) -> ImportedOut:
        return cls(
            id=row.id, source_format=row.source_format, issuer_id=row.issuer_id,
            issuer_name=row.issuer_name, achievement_id=row.achievement_id,
            achievement_name=row.achievement_name, definition_id=row.definition_id,
            skills=list(row.skills), ects=row.ects, hours=row.hours, earned_at=row.earned_at,
            verified=row.verified, verified_at=row.verified_at,
            checks=[CheckOut(**check) for check in row.checks],
        )  # fmt: skip


class RecommendationIn(BaseModel):
    organisation: str
    definition_id: str = Field(max_length=32)
    recommending_body: str = Field(max_length=200)
    credits: float
    unit: Literal["ects", "credit_hours"]
    level: str = Field(max_length=120)
    discipline: str = Field(max_length=200)
    valid_from: date
    valid_until: date | None = None
    eqf_level: int | None = None


class RecommendationOut(BaseModel):
    id: str
    definition_id: str
    organisation_id: str
    recommending_body: str
    credits: float
    unit: str
    level: str
    eqf_level: int | None
    discipline: str
    valid_from: date
    valid_until: date | None

    @classmethod
    def of(cls, row: CreditRecommendation) -> RecommendationOut:
        return cls(
            id=row.id, definition_id=row.definition_id, organisation_id=row.organisation_id,
            recommending_body=row.recommending_body, credits=row.credits, unit=row.unit.value,
            level=row.level, eqf_level=row.eqf_level, discipline=row.discipline,
            valid_from=row.valid_from, valid_until=row.valid_until,
        )  # fmt: skip


class AgreementIn(BaseModel):
    organisation: str
    programme: str = Field(max_length=200)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    max_credits: float | None = None


class RuleIn(BaseModel):
    match_kind: Literal["definition", "issuer", "skill"]
    match_value: str = Field(max_length=500)
    course_code: str = Field(max_length=60)
    course_name: str = Field(max_length=200)
    credits: float
    min_credits: float | None = None
    min_eqf_level: int | None = None
    within_years: int | None = None
    notes: str = Field(default="", max_length=2000)


class RuleOut(BaseModel):
    id: str
    position: int
    match_kind: str
    match_value: str
    course_code: str
    course_name: str
    credits: float
    min_credits: float | None
    min_eqf_level: int | None
    within_years: int | None
    notes: str

    @classmethod
    def of(cls, row: ArticulationRule) -> RuleOut:
        return cls(
            id=row.id, position=row.position, match_kind=row.match_kind.value,
            match_value=row.match_value, course_code=row.course_code,
            course_name=row.course_name, credits=row.credits, min_credits=row.min_credits,
            min_eqf_level=row.min_eqf_level, within_years=row.within_years, notes=row.notes,
        )  # fmt: skip


class AgreementOut(BaseModel):
    id: str
    organisation_id: str
    programme: str
    name: str
    description: str
    max_credits: float | None
    rules: list[RuleOut]

    @classmethod
    def of(cls, row: ArticulationAgreement) -> AgreementOut:
        return cls(
            id=row.id, organisation_id=row.organisation_id, programme=row.programme,
            name=row.name, description=row.description, max_credits=row.max_credits,
            rules=[RuleOut.of(rule) for rule in row.rules],
        )  # fmt: skip


class TransferItemOut(BaseModel):
    credential: str
    issuer: str
    credited: bool
    credits: float
    course_code: str | None
    reason: str

    @classmethod
    def of(cls, item: TransferItem) -> TransferItemOut:
        return cls(
            credential=item.holding.name, issuer=item.holding.issuer_name,
            credited=item.credited, credits=item.credits,
            course_code=item.rule.course_code if item.rule else None, reason=item.reason,
        )  # fmt: skip


class TransferOut(BaseModel):
    agreement_id: str
    programme: str
    learner: str
    total_credits: float
    max_credits: float | None
    evaluated_at: datetime
    items: list[TransferItemOut]

    @classmethod
    def of(cls, evaluation: TransferEvaluation) -> TransferOut:
        return cls(
            agreement_id=evaluation.agreement.id, programme=evaluation.agreement.programme,
            learner=evaluation.learner.email, total_credits=evaluation.result.total,
            max_credits=evaluation.result.max_credits, evaluated_at=evaluation.evaluated_at,
            items=[TransferItemOut.of(item) for item in evaluation.result.items],
        )  # fmt: skip


NodeOut.model_rebuild()

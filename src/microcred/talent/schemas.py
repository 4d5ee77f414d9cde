"""Talent search API bodies: the query in, one page of explained results out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from microcred.talent import service
from microcred.talent.service import (
    MAX_PER_PAGE,
    MAX_POSTING,
    MAX_QUERY_SKILLS,
    Candidate,
    ExtractedSkill,
    QuerySkill,
    TalentResults,
)


class TalentSearchIn(BaseModel):
    skills: list[str] = Field(
        default_factory=list,
        max_length=MAX_QUERY_SKILLS,
        description="Skill URIs (ESCO, O*NET) or labels, resolved through the taxonomy",
    )
    posting: str | None = Field(
        default=None,
        max_length=MAX_POSTING,
        description="A job posting's text: its skills are extracted and searched for",
    )
    exclude: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Skill URIs extracted from the posting to leave out",
    )
    include_narrower: bool = Field(
        default=False, description="A credential for a narrower skill matches a broader one"
    )
    min_matched: int = Field(default=1, ge=1, le=MAX_QUERY_SKILLS)
    min_eqf: int | None = Field(default=None, ge=1, le=8)
    within_months: int | None = Field(
        default=None, ge=1, le=600, description="Only credentials issued within this many months"
    )
    organisation: str | None = Field(
        default=None, max_length=80, description="The employer searched for (slug); default: yours"
    )
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)


class QuerySkillOut(BaseModel):
    uri: str
    label: str
    asked_as: str
    narrower: list[str] = Field(description="Narrower skills that also match (when asked)")

    @classmethod
    def of(cls, skill: QuerySkill) -> QuerySkillOut:
        return cls(
            uri=skill.uri, label=skill.label, asked_as=skill.asked_as, narrower=list(skill.narrower)
        )


class ExtractedSkillOut(BaseModel):
    uri: str
    label: str
    text: str = Field(description="The words of the posting that named it")
    confidence: float

    @classmethod
    def of(cls, skill: ExtractedSkill) -> ExtractedSkillOut:
        return cls(uri=skill.uri, label=skill.label, text=skill.text, confidence=skill.confidence)


class EvidenceOut(BaseModel):
    kind: str = Field(description="earned: issued here, verified live; imported: verified")
    credential_id: str
    name: str
    issuer_name: str
    issued_at: datetime
    eqf_level: int | None
    verification_url: str | None = Field(description="The public verification page")


class SkillMatchOut(BaseModel):
    skill_uri: str
    skill_label: str
    via_narrower: bool
    credentials: list[EvidenceOut]


class ScoreOut(BaseModel):
    total: float
    skill_points: float
    recency_points: float
    eqf_points: float
    matched: int
    explanation: list[str]


class CandidateOut(BaseModel):
    name: str
    email: str = Field(description="To contact the learner, who agreed to be found")
    profile_url: str | None
    score: ScoreOut
    matches: list[SkillMatchOut]

    @classmethod
    def of(cls, candidate: Candidate, base_url: str) -> CandidateOut:
        score = candidate.score
        return cls(
            name=candidate.name,
            email=candidate.email,
            profile_url=f"{base_url}{candidate.profile_path}" if candidate.profile_path else None,
            score=ScoreOut(
                total=score.total,
                skill_points=score.skill_points,
                recency_points=score.recency_points,
                eqf_points=score.eqf_points,
                matched=score.matched,
                explanation=score.explanation(),
            ),
            matches=[
                SkillMatchOut(
                    skill_uri=match.skill.uri,
                    skill_label=match.skill.label,
                    via_narrower=match.via_narrower,
                    credentials=[
                        EvidenceOut(
                            kind=e.kind,
                            credential_id=e.credential_id,
                            name=e.name,
                            issuer_name=e.issuer_name,
                            issued_at=e.issued_at,
                            eqf_level=e.eqf_level,
                            verification_url=f"{base_url}{e.page_path}" if e.page_path else None,
                        )
                        for e in match.credentials
                    ],
                )
                for match in candidate.matches
            ],
        )


class SkillHoldersOut(BaseModel):
    skill_uri: str
    learners: int = Field(description="Consenting learners with a verified credential for it")


class TalentSearchOut(BaseModel):
    skills: list[QuerySkillOut]
    extracted: list[ExtractedSkillOut] = Field(
        description="Skills found in the posting (before exclusions); empty without one"
    )
    total: int = Field(
        description=f"Learners matching (pages reach the best {service.MAX_RESULTS})"
    )
    page: int
    per_page: int
    pages: int
    results: list[CandidateOut]
    holders: list[SkillHoldersOut]

    @classmethod
    def of(
        cls, results: TalentResults, extracted: list[ExtractedSkill], base_url: str
    ) -> TalentSearchOut:
        return cls(
            skills=[QuerySkillOut.of(s) for s in results.skills],
            extracted=[ExtractedSkillOut.of(s) for s in extracted],
            total=results.total,
            page=results.page,
            per_page=results.per_page,
            pages=results.pages,
            results=[CandidateOut.of(c, base_url) for c in results.candidates],
            holders=[
                SkillHoldersOut(skill_uri=h.skill.uri, learners=h.learners) for h in results.holders
            ],
        )

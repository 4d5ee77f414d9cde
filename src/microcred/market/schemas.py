"""Pydantic shapes of the market API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class OverviewOut(BaseModel):
    postings: int
    skills: int
    regions: list[str]
    countries: list[str]
    first_month: date | None
    last_month: date | None


class SkillCountOut(BaseModel):
    skill_uri: str
    label: str
    postings: int = Field(description="Postings naming the skill")
    share: float = Field(description="Share of the postings matching the filters")


class DemandCellOut(BaseModel):
    skill_uri: str
    label: str
    region: str
    month: date
    postings: int
    share: float = Field(description="Share of that region-month's postings")


class TrendPointOut(BaseModel):
    month: date
    postings: int
    total: int
    share: float


class TrendTestOut(BaseModel):
    skill_uri: str
    label: str
    before: int
    after: int
    before_total: int
    after_total: int
    change: float = Field(description="Relative change of the share (0.5 = +50 %)")
    p_value: float = Field(description="Two-sided binomial test")
    q_value: float = Field(description="Benjamini–Hochberg adjusted")
    direction: str = Field(description="rising, falling or stable (q ≥ 0.05)")


class CoSkillOut(SkillCountOut):
    lift: float = Field(description="P(skill | anchor) / P(skill); > 1 means named together")


class SalaryOut(BaseModel):
    skill_uri: str
    label: str
    currency: str
    postings: int
    median: float
    p25: float
    p75: float


class CredentialSupplyOut(BaseModel):
    definition_id: str
    name: str
    skills: list[SkillCountOut]


class GapReportOut(BaseModel):
    issuer_slug: str
    issuer_name: str
    region: str | None
    country: str | None
    postings: int
    credentials: int
    gaps: list[SkillCountOut] = Field(description="In-demand skills no published credential covers")
    covered: list[SkillCountOut] = Field(description="Skills the issuer's credentials cover")
    oversupplied: list[CredentialSupplyOut] = Field(
        description="Credentials none of whose skills reaches 0.5 % of regional postings"
    )
    notes: list[str]

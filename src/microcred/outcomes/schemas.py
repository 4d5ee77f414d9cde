"""Pydantic shapes of the outcomes API: a learner's employment report, an issuer's KPIs."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from microcred.outcomes import kpis
from microcred.outcomes.models import EMPLOYMENT_STATUSES, EmploymentReport, EmploymentStatus
from microcred.outcomes.service import MAX_JOB_TITLE, OutcomeReport


class EmploymentReportIn(BaseModel):
    credential_id: str = Field(max_length=32)
    status: EmploymentStatus
    status_since: date = Field(description="When this status began")
    job_title: str | None = Field(default=None, max_length=MAX_JOB_TITLE)


class EmploymentReportOut(BaseModel):
    credential_id: str
    status: EmploymentStatus
    status_label: str
    status_since: date
    job_title: str | None
    updated_at: datetime

    @classmethod
    def of(cls, report: EmploymentReport) -> EmploymentReportOut:
        return cls(
            credential_id=report.credential_id,
            status=report.status,
            status_label=EMPLOYMENT_STATUSES[report.status],
            status_since=report.status_since,
            job_title=report.job_title,
            updated_at=report.updated_at,
        )


class SatisfactionOut(BaseModel):
    responses: int
    mean_rating: float | None = Field(description="1 (poor) to 5 (excellent)")
    recommend_share: float | None = Field(description="Share who would recommend it (0–1)")
    response_rate: float | None = Field(description="Answers / learners completed")


class EmploymentOut(BaseModel):
    responses: int = Field(description="Reports on credentials completed in the period")
    response_rate: float | None
    eligible_at_6_months: int = Field(
        description="Reports on credentials completed ≥ 182 days ago, 'prefer not to say' left out"
    )
    related_share_at_6_months: float | None = Field(
        description="Employed in a related role within 182 days of completion; null when "
        "suppressed (fewer than 5 eligible reports)"
    )
    suppressed: bool
    breakdown: dict[str, int] = Field(description="Reports by status; empty when suppressed")
    breakdown_suppressed: bool


class MonthOut(BaseModel):
    month: date
    completions: int


class KpisOut(BaseModel):
    definition_id: str | None = Field(description="None for the issuer's totals")
    name: str
    assessed: bool = Field(description="Starts come from assessment activity")
    started: int
    completed: int
    completion_rate: float | None
    median_days_to_complete: float | None
    revoked: int
    satisfaction: SatisfactionOut
    employment: EmploymentOut
    skills: int
    skills_in_demand: int | None
    market_alignment: float | None
    monthly_completions: list[MonthOut]

    @classmethod
    def of(cls, row: kpis.Kpis) -> KpisOut:
        employment = row.employment
        return cls(
            definition_id=row.definition_id or None,
            name=row.name,
            assessed=row.assessed,
            started=row.started,
            completed=row.completed,
            completion_rate=row.completion_rate,
            median_days_to_complete=row.median_days,
            revoked=row.revoked,
            satisfaction=SatisfactionOut(
                responses=row.survey_responses,
                mean_rating=row.mean_rating,
                recommend_share=row.recommend_share,
                response_rate=row.survey_response_rate,
            ),
            employment=EmploymentOut(
                responses=employment.responses,
                response_rate=row.employment_response_rate,
                eligible_at_6_months=employment.eligible,
                related_share_at_6_months=employment.related_share,
                suppressed=employment.suppressed,
                breakdown={status.value: n for status, n in employment.breakdown.items()},
                breakdown_suppressed=employment.breakdown_suppressed,
            ),
            skills=row.skills,
            skills_in_demand=row.skills_in_demand,
            market_alignment=row.market_alignment,
            monthly_completions=[
                MonthOut(month=m, completions=n) for m, n in row.monthly_completions
            ],
        )


class MarketOut(BaseModel):
    available: bool
    region: str | None
    postings: int
    notes: list[str]


class OutcomesOut(BaseModel):
    organisation: str
    organisation_name: str
    since: date
    until: date
    overall: KpisOut
    programmes: list[KpisOut] = Field(description="Programmes with activity in the period")
    idle_programmes: int
    market: MarketOut

    @classmethod
    def of(cls, report: OutcomeReport) -> OutcomesOut:
        market = report.market
        return cls(
            organisation=report.organisation.slug,
            organisation_name=report.organisation.name,
            since=report.period.since,
            until=report.period.until,
            overall=KpisOut.of(report.overall),
            programmes=[KpisOut.of(row) for row in report.programmes],
            idle_programmes=report.idle_programmes,
            market=MarketOut(
                available=market.available, region=market.region, postings=market.postings,
                notes=market.notes,
            ),
        )  # fmt: skip

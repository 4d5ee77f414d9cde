"""Outcome operations: learners report their employment after a credential; issuers read KPIs.

A learner reports on their own credentials issued here (not revoked), one report each, which
they may change or withdraw. Issuer staff read the reports only through the KPIs, in aggregate
and suppressed below :data:`kpis.MIN_RESPONSES` responses.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import Principal, get_organisation, record_audit
from microcred.assessment.service import assessment_activity
from microcred.assessment.surveys import survey_answers
from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.errors import NotFound
from microcred.market.service import OVERSUPPLY_SHARE, gap_report, market_store, open_analytics
from microcred.outcomes import kpis
from microcred.outcomes.errors import OutcomeError, OutcomeForbidden
from microcred.outcomes.models import EMPLOYMENT_STATUSES, EmploymentReport, EmploymentStatus
from microcred.settings import Settings
from microcred.spreadsheet import safe_writer

READ_SCOPE = "outcomes:read"
REPORT_SCOPE = "outcomes:report"
MAX_JOB_TITLE = 200
EARLIEST_STATUS = date(1950, 1, 1)

# --- the learner's reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    status: str
    status_since: date | None
    job_title: str = ""


def _own_credential(session: Session, principal: Principal, credential_id: str) -> IssuedCredential:
    """The learner's credential; anyone else's is 'not found' (its existence is not told)."""
    try:
        credential = credentials.get_credential(session, credential_id)
    except NotFound:
        credential = None
    if credential is None or credential.recipient_user_id != principal.user_id:
        raise NotFound("You hold no credential with that id.")
    return credential


def _require_report_scope(principal: Principal) -> None:
    if not principal.has_scope(REPORT_SCOPE):
        raise OutcomeForbidden(f"This token lacks the {REPORT_SCOPE} scope.")


def _reportable(session: Session, principal: Principal, credential_id: str) -> IssuedCredential:
    _require_report_scope(principal)
    credential = _own_credential(session, principal, credential_id)
    if credential.state is CredentialState.revoked:
        raise OutcomeError("This credential was revoked: there is no outcome to report for it.")
    return credential


def report_of(
    session: Session, principal: Principal, credential_id: str
) -> EmploymentReport | None:
    _own_credential(session, principal, credential_id)
    return session.scalar(
        select(EmploymentReport).where(
            EmploymentReport.user_id == principal.user_id,
            EmploymentReport.credential_id == credential_id,
        )
    )


@dataclass(frozen=True)
class Reportable:
    credential: IssuedCredential
    report: EmploymentReport | None


def my_reports(session: Session, principal: Principal) -> list[Reportable]:
    """The learner's unrevoked credentials issued here, newest first, each with its report."""
    reports = {
        report.credential_id: report
        for report in session.scalars(
            select(EmploymentReport).where(EmploymentReport.user_id == principal.user_id)
        )
    }
    return [
        Reportable(credential, reports.get(credential.id))
        for credential in credentials.credentials_of_learner(session, principal.user_id, principal)
        if credential.state is not CredentialState.revoked
    ]


def parse_status(value: str) -> EmploymentStatus:
    try:
        return EmploymentStatus(value)
    except ValueError:
        raise OutcomeError(
            "Choose one of: " + ", ".join(EMPLOYMENT_STATUSES.values()) + ".", field="status"
        ) from None


def _check(data: ReportInput, today: date) -> tuple[EmploymentStatus, date, str | None]:
    status = parse_status(data.status)
    if data.status_since is None:
        raise OutcomeError("Say since when (a date).", field="status_since")
    if not EARLIEST_STATUS <= data.status_since <= today:
        raise OutcomeError("The date cannot be in the future.", field="status_since")
    title = data.job_title.strip()
    if len(title) > MAX_JOB_TITLE:
        raise OutcomeError(f"At most {MAX_JOB_TITLE} characters.", field="job_title")
    return status, data.status_since, title or None


def save_report(
    session: Session,
    principal: Principal,
    credential_id: str,
    data: ReportInput,
    *,
    create_only: bool = False,
    today: date | None = None,
) -> tuple[EmploymentReport, bool]:
    """Create or update the learner's report on one of their credentials; True when created.

    ``create_only`` refuses to replace an existing report (409)."""
    credential = _reportable(session, principal, credential_id)
    status, since, title = _check(data, today or datetime.now(UTC).date())
    report = report_of(session, principal, credential_id)
    created = report is None
    if report is None:
        report = EmploymentReport(
            user_id=principal.user_id,
            credential_id=credential.id,
            organisation_id=credential.organisation_id,
            definition_id=credential.definition_id,
        )
        session.add(report)
    elif create_only:
        raise OutcomeError(
            "You have already reported an outcome for this credential; update it instead.",
            status_code=409,
        )
    report.status, report.status_since, report.job_title = status, since, title
    session.flush()
    record_audit(
        session, principal, "outcomes.reported", organisation_id=credential.organisation_id,
        object_type="credential", object_id=credential.id,
    )  # fmt: skip
    return report, created


def withdraw_report(session: Session, principal: Principal, credential_id: str) -> None:
    _require_report_scope(principal)
    report = report_of(session, principal, credential_id)
    if report is None:
        raise NotFound("You have not reported an outcome for this credential.")
    session.delete(report)
    record_audit(
        session, principal, "outcomes.withdrawn", organisation_id=report.organisation_id,
        object_type="credential", object_id=credential_id,
    )  # fmt: skip


# --- the issuer's KPIs -------------------------------------------------------------------------


def can_read(principal: Principal | None, organisation_id: str) -> bool:
    return principal is not None and principal.can(
        organisation_id, Role.issuer_staff, scope=READ_SCOPE
    )


def readable_organisation(
    session: Session, principal: Principal | None, organisation: str
) -> Organisation:
    org = get_organisation(session, organisation)
    if not can_read(principal, org.id):
        raise OutcomeForbidden("Only staff of this organisation may read its outcome KPIs.")
    return org


def parse_day(value: str | None, field: str) -> date | None:
    """An ISO date (YYYY-MM-DD, or YYYY-MM for the month's first day); blank: None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        raise OutcomeError(f"'{text}' is not a date (YYYY-MM-DD).", field=field) from None


def parse_period(since: str | None, until: str | None, today: date) -> kpis.Period:
    """The period from ISO dates; either missing: that end of the last 12 months."""
    default = kpis.default_period(today)
    period = kpis.Period(
        parse_day(since, "since") or default.since, parse_day(until, "until") or default.until
    )
    if period.since > period.until:
        raise OutcomeError("The period ends before it starts.", field="until")
    if len(period.months()) > 120:
        raise OutcomeError("Choose a period of at most ten years.", field="since")
    return period


@dataclass(frozen=True)
class MarketAlignment:
    available: bool
    region: str | None = None
    postings: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutcomeReport:
    organisation: Organisation
    period: kpis.Period
    overall: kpis.Kpis
    programmes: list[kpis.Kpis]
    """Programmes with a start, a completion or a revocation in the period, by name."""
    idle_programmes: int
    market: MarketAlignment


def _in_demand(
    session: Session, settings: Settings, organisation: Organisation
) -> tuple[frozenset[str] | None, MarketAlignment]:
    """The issuer's skills named by ≥ 0.5 % of its region's postings (None: no market data)."""
    if not market_store(settings).has_data():
        return None, MarketAlignment(False, notes=["No job postings are loaded yet."])
    with open_analytics(settings) as analytics:
        report = gap_report(session, analytics, organisation.slug)
    demanded = frozenset(s.skill_uri for s in report.covered if s.share >= OVERSUPPLY_SHARE)
    where = report.region or report.country
    return demanded, MarketAlignment(True, where, report.postings, report.notes)


def _facts(
    session: Session, principal: Principal, organisation: Organisation, period: kpis.Period
) -> list[kpis.ProgrammeFacts]:
    completions = credentials.completions_of_issuer(session, organisation.id, since=period.start)
    names = {c.definition_id: c.achievement_name for c in completions}
    managed = catalogue.managed_definitions(session, principal, organisation.id)
    names.update({d.definition_id: d.name for d in managed})
    ids = sorted(names)
    published = catalogue.definitions_by_ids(session, ids)
    activity = assessment_activity(session, ids)
    reports = _employment(session, organisation.id, completions)
    by_definition: dict[str, list[kpis.CompletionFact]] = defaultdict(list)
    for c in completions:
        by_definition[c.definition_id].append(
            kpis.CompletionFact(c.recipient_key, c.completed_at, c.state is CredentialState.revoked)
        )
    surveys: dict[str, list[kpis.SurveyFact]] = defaultdict(list)
    for answer in survey_answers(session, ids):
        surveys[answer.definition_id].append(
            kpis.SurveyFact(answer.learner_id, answer.rating, answer.would_recommend)
        )
    starts: dict[str, dict[str, datetime]] = defaultdict(dict)
    for (definition_id, learner), at in activity.first.items():
        starts[definition_id][learner] = at
    return [
        kpis.ProgrammeFacts(
            definition_id=definition_id,
            name=names[definition_id],
            assessed=definition_id in activity.assessed,
            starts=starts[definition_id],
            completions=by_definition[definition_id],
            surveys=surveys[definition_id],
            employment=reports[definition_id],
            skills=frozenset(
                s.skill_uri for s in getattr(published.get(definition_id), "skills", [])
            ),
        )
        for definition_id in ids
    ]


def _employment(
    session: Session, organisation_id: str, completions: Sequence[credentials.Completion]
) -> dict[str, list[kpis.EmploymentFact]]:
    """The reports on the issuer's unrevoked credentials among ``completions``, by programme."""
    completed = {c.credential_id: c for c in completions if c.state is not CredentialState.revoked}
    found: dict[str, list[kpis.EmploymentFact]] = defaultdict(list)
    rows = session.execute(
        select(
            EmploymentReport.credential_id, EmploymentReport.status, EmploymentReport.status_since
        ).where(EmploymentReport.organisation_id == organisation_id)
    ).all()
    for credential_id, status, since in rows:
        completion = completed.get(credential_id)
        if completion is not None:
            found[completion.definition_id].append(
                kpis.EmploymentFact(completion.completed_at, status, since)
            )
    return found


def _active(programme: kpis.Kpis) -> bool:
    return bool(programme.started or programme.completed or programme.revoked)


def outcome_report(
    session: Session,
    principal: Principal,
    organisation: str,
    period: kpis.Period,
    settings: Settings,
    *,
    today: date | None = None,
) -> OutcomeReport:
    """The issuer's KPIs over the period, overall and per programme (issuer staff, admins)."""
    org = readable_organisation(session, principal, organisation)
    today = today or datetime.now(UTC).date()
    in_demand, market = _in_demand(session, settings, org)
    facts = _facts(session, principal, org, period)
    programmes = [kpis.programme_kpis(f, period, today, in_demand) for f in facts]
    active = sorted((p for p in programmes if _active(p)), key=lambda p: p.name.lower())
    overall = kpis.programme_kpis(kpis.merge("", org.name, facts), period, today, in_demand)
    return OutcomeReport(org, period, overall, active, len(programmes) - len(active), market)


# --- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "definition_id", "programme", "started", "completed", "completion_rate",
    "median_days_to_complete", "revoked", "survey_responses", "mean_rating", "recommend_share",
    "survey_response_rate", "employment_responses", "employment_eligible_6_months",
    "employed_related_share_6_months", "skills", "skills_in_demand", "market_alignment",
)  # fmt: skip
SUPPRESSED = "too few responses"


def _number(value: float | None, digits: int = 3) -> str | float:
    return "" if value is None else round(value, digits)


def kpi_row(row: kpis.Kpis) -> list[object]:
    employment = row.employment
    related: str | float = (
        SUPPRESSED if employment.suppressed else _number(employment.related_share)
    )
    return [
        row.definition_id, row.name, row.started, row.completed, _number(row.completion_rate),
        _number(row.median_days, 1), row.revoked, row.survey_responses, _number(row.mean_rating, 2),
        _number(row.recommend_share), _number(row.survey_response_rate), employment.responses,
        employment.eligible, related, row.skills,
        "" if row.skills_in_demand is None else row.skills_in_demand,
        _number(row.market_alignment),
    ]  # fmt: skip


def kpi_csv(report: OutcomeReport) -> str:
    """The per-programme table, then the issuer's totals (definition_id empty), as CSV text."""
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in [*report.programmes, report.overall]:
        writer.writerow(kpi_row(row))
    return out.getvalue()

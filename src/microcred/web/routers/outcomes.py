"""Outcomes: issuer staff read programme KPIs as charts (/manage/outcomes, CSV, API); learners
report their employment after a credential (/wallet/outcomes, /api/v1/me/outcomes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import Principal, staff_organisations
from microcred.market import charts
from microcred.outcomes import engagement, kpis
from microcred.outcomes import service as outcomes
from microcred.outcomes.errors import OutcomeError, OutcomeForbidden
from microcred.outcomes.models import EMPLOYMENT_STATUSES
from microcred.outcomes.schemas import EmploymentReportIn, EmploymentReportOut, OutcomesOut
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.form_errors import errors_on_inputs
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["outcomes"])
routers = [pages, api]

MAX_CHART_ROWS = 25
DateText = Annotated[str | None, Query(max_length=10)]


def _today() -> date:
    return datetime.now(UTC).date()


def _staff_context(
    session: Session, principal: Principal, slug: str | None
) -> tuple[list[Organisation], Organisation]:
    """The issuers whose KPIs the user may read, and the one chosen (else the first)."""
    organisations = [
        o
        for o in staff_organisations(session, principal, Role.issuer_staff)
        if outcomes.can_read(principal, o.id)
    ]
    if not organisations:
        raise OutcomeForbidden("Only issuer staff can read outcome KPIs.")
    chosen = next((o for o in organisations if o.slug == slug), organisations[0])
    return organisations, chosen


def _report(
    request: Request,
    session: Session,
    principal: Principal,
    organisation: str,
    since: str | None,
    until: str | None,
) -> outcomes.OutcomeReport:
    period = outcomes.parse_period(since, until, _today())
    settings = app_context(request).settings
    return outcomes.outcome_report(session, principal, organisation, period, settings)


def _bars(
    title: str,
    rows: list[tuple[str, float]],
    value_format: str,
    headings: tuple[str, str] | None = None,
) -> Markup | None:
    """A bar chart, and its figures under it when ``headings`` name them (charts whose figures
    the page's table does not already show)."""
    if not rows:
        return None
    ordered = sorted(rows, key=lambda row: -row[1])[:MAX_CHART_ROWS]
    chart = charts.bar_chart(title, ordered, value_format=value_format)
    if headings is not None:
        chart += charts.figures(title, headings, ordered, value_format)
    return Markup(chart)


def _monthly(title: str, points: list[tuple[date, float]], heading: str) -> Markup:
    """A line chart of counts per month, with its figures under it."""
    rows = [(f"{month:%Y-%m}", value) for month, value in points]
    return Markup(
        charts.line_chart(title, points, value_format="{:,.0f}")
        + charts.figures(title, ("Month", heading), rows, "{:,.0f}")
    )


def _charts(report: outcomes.OutcomeReport) -> dict[str, Any]:
    """The page's charts by template name (None: nothing to chart)."""
    rows = report.programmes
    employment = report.overall.employment
    return {
        "completion_chart": _bars(
            "Completion rate per programme",
            [(p.name, p.completion_rate) for p in rows if p.completion_rate is not None],
            "{:.0%}",
        ),
        "satisfaction_chart": _bars(
            "Mean satisfaction rating per programme (1–5)",
            [(p.name, p.mean_rating) for p in rows if p.mean_rating is not None],
            "{:.1f}",
        ),
        "employment_chart": _bars(
            "Employment outcomes reported by learners",
            [(EMPLOYMENT_STATUSES[s], float(n)) for s, n in employment.breakdown.items()],
            "{:.0f}",
            ("Situation", "Reports"),
        ),
        "alignment_chart": _bars(
            "Share of each programme's skills in demand in the region",
            [(p.name, p.market_alignment) for p in rows if p.market_alignment is not None],
            "{:.0%}",
        ),
        "trend_chart": _monthly(
            "Completions per month",
            [(month, float(n)) for month, n in report.overall.monthly_completions],
            "Completions",
        ),
    }


@pages.get("/manage/outcomes", response_class=HTMLResponse)
def manage_outcomes(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    since: DateText = None,
    until: DateText = None,
) -> HTMLResponse:
    organisations, current = _staff_context(session, principal, organisation)
    try:
        report = _report(request, session, principal, current.slug, since, until)
    except OutcomeForbidden:
        raise
    except OutcomeError as error:
        return render(
            request, "outcomes/manage.html", principal, status_code=error.status_code,
            organisations=organisations, current=current, report=None, error=error.message,
            since=since or "", until=until or "",
        )  # fmt: skip
    seen = engagement.organisation_engagement(
        session, current.id, report.period.since, report.period.until
    )
    return render(
        request, "outcomes/manage.html", principal, organisations=organisations,
        current=current, report=report, error=None, statuses=EMPLOYMENT_STATUSES,
        since=report.period.since.isoformat(), until=report.period.until.isoformat(),
        suppressed=outcomes.SUPPRESSED, min_responses=kpis.MIN_RESPONSES, engagement=seen,
        engagement_labels=engagement.LABELS, **_charts(report), **_engagement_charts(seen),
    )  # fmt: skip


def _engagement_charts(seen: engagement.Engagement) -> dict[str, Any]:
    """How others engaged with the issuer's credentials: totals per kind, and views by month."""
    totals = [(engagement.LABELS[kind], float(n)) for kind, n in seen.totals.items() if n]
    views = [
        (date(int(month[:4]), int(month[5:7]), 1), float(counts.get(engagement.VIEW, 0)))
        for month, counts in seen.monthly
    ]
    return {
        "engagement_chart": _bars("Engagement with your credentials", totals, "{:,.0f}"),
        "views_chart": _monthly("Page views by others per month", views, "Page views")
        if views
        else None,
    }


@pages.get("/manage/outcomes/export.csv")
def manage_outcomes_csv(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    since: DateText = None,
    until: DateText = None,
) -> Response:
    _, current = _staff_context(session, principal, organisation)
    report = _report(request, session, principal, current.slug, since, until)
    name = f"outcomes-{current.slug}-{report.period.since}-{report.period.until}.csv"
    return Response(
        outcomes.kpi_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- the learner's report ----------------------------------------------------------------------


OUTCOME_INPUTS = {"status": "status", "status_since": "status_since", "job_title": "job_title"}
"""The outcome report form's input for each field a refusal names."""


def _wallet_page(
    request: Request,
    session: Session,
    principal: Principal,
    credential: str | None,
    *,
    form: dict[str, str] | None = None,
    error: OutcomeError | None = None,
    saved: str = "",
) -> HTMLResponse:
    chosen = outcomes.report_of(session, principal, credential) if credential else None
    reportable = outcomes.my_reports(session, principal)
    current = next((r for r in reportable if r.credential.id == credential), None)
    if credential and current is None:
        error = error or OutcomeError("This credential was revoked: there is no outcome to report.")
    if form is None:
        form = {
            "status": chosen.status.value if chosen else "",
            "status_since": chosen.status_since.isoformat() if chosen else "",
            "job_title": (chosen.job_title or "") if chosen else "",
        }
    return render(
        request, "outcomes/report.html", principal,
        status_code=error.status_code if error else 200, reportable=reportable, current=current,
        form=form, statuses=EMPLOYMENT_STATUSES, error=error, saved=saved,
        errors=errors_on_inputs(error, OUTCOME_INPUTS) if error else {},
        today=_today().isoformat(), min_responses=kpis.MIN_RESPONSES,
    )  # fmt: skip


@pages.get("/wallet/outcomes", response_class=HTMLResponse)
def report_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    credential: Annotated[str | None, Query(max_length=32)] = None,
    saved: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    """Every credential the learner may report on; with ``?credential=`` the form for it."""
    return _wallet_page(request, session, principal, credential, saved=saved)


@pages.post("/wallet/outcomes", response_model=None)
def report_save(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    credential: Annotated[str, Form(max_length=32)],
    csrf_token: Annotated[str, Form()] = "",
    status: Annotated[str, Form(max_length=30)] = "",
    status_since: Annotated[str, Form(max_length=10)] = "",
    job_title: Annotated[str, Form(max_length=outcomes.MAX_JOB_TITLE)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf_token)
    if action == "withdraw":
        outcomes.withdraw_report(session, principal, credential)
        return RedirectResponse(f"/wallet/outcomes?credential={credential}&saved=withdrawn", 303)
    form = {"status": status, "status_since": status_since, "job_title": job_title}
    try:
        since = outcomes.parse_day(status_since, "status_since")
        outcomes.save_report(
            session, principal, credential, outcomes.ReportInput(status, since, job_title)
        )
    except OutcomeError as error:
        return _wallet_page(request, session, principal, credential, form=form, error=error)
    return RedirectResponse(f"/wallet/outcomes?credential={credential}&saved=1", 303)


# --- JSON API ----------------------------------------------------------------------------------


@api.get(
    "/organisations/{slug}/outcomes",
    response_model=OutcomesOut,
    summary="An issuer's programme outcome KPIs (issuer staff, scope outcomes:read)",
)
def api_outcomes(
    slug: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    since: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
) -> OutcomesOut:
    """Totals and one row per programme with activity in the period (default: the last 12
    months); employment figures under 5 responses are suppressed (null)."""
    return OutcomesOut.of(_report(request, session, principal, slug, since, until))


@api.get("/me/outcomes", response_model=list[EmploymentReportOut], summary="Your reports")
def api_my_reports(session: DbSession, principal: CurrentPrincipal) -> list[EmploymentReportOut]:
    reports = [r.report for r in outcomes.my_reports(session, principal)]
    return [EmploymentReportOut.of(report) for report in reports if report]


def _save(
    session: Session, principal: Principal, body: EmploymentReportIn, *, create_only: bool
) -> tuple[EmploymentReportOut, bool]:
    data = outcomes.ReportInput(body.status.value, body.status_since, body.job_title or "")
    report, created = outcomes.save_report(
        session, principal, body.credential_id, data, create_only=create_only
    )
    return EmploymentReportOut.of(report), created


@api.post(
    "/me/outcomes",
    response_model=EmploymentReportOut,
    status_code=201,
    summary="Report your employment after a credential (409 if already reported)",
)
def api_create_report(
    body: EmploymentReportIn, session: DbSession, principal: CurrentPrincipal
) -> EmploymentReportOut:
    """Shown to the issuer only in aggregate, never with your name."""
    return _save(session, principal, body, create_only=True)[0]


@api.put(
    "/me/outcomes",
    response_model=EmploymentReportOut,
    summary="Create or update your employment report on a credential",
)
def api_put_report(
    body: EmploymentReportIn, response: Response, session: DbSession, principal: CurrentPrincipal
) -> EmploymentReportOut:
    out, created = _save(session, principal, body, create_only=False)
    response.status_code = 201 if created else 200
    return out


@api.delete(
    "/me/outcomes/{credential_id}", status_code=204, summary="Withdraw your employment report"
)
def api_withdraw_report(
    credential_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    outcomes.withdraw_report(session, principal, credential_id)
    return Response(status_code=204)

"""Employment reports (own credentials only, one each, updatable) and an issuer's KPIs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import Organisation
from microcred.credentials.service import revoke_credential
from microcred.errors import NotFound
from microcred.outcomes import kpis
from microcred.outcomes import service as outcomes
from microcred.outcomes.errors import OutcomeError, OutcomeForbidden
from microcred.outcomes.models import EmploymentStatus
from microcred.settings import Settings
from tests.conftest import World
from tests.outcomes.conftest import (
    Cohort,
    academy_definition_id,
    cohort,
    definition_id,
    issue,
    learner_credential,
    principal,
    skills,
)

__all__ = [
    "academy_definition_id", "cohort", "definition_id", "issue", "learner_credential", "skills",
]  # fmt: skip

LAST_YEAR = date.today() - timedelta(days=100)


def report(status: str = "employed_related", since: date = LAST_YEAR) -> outcomes.ReportInput:
    return outcomes.ReportInput(status, since, "Data analyst")


@pytest.mark.both_databases
def test_a_learner_reports_on_their_credential_once_and_updates_it(
    db_backend: str, sessions: sessionmaker[Session], world: World, learner_credential: str
) -> None:
    with sessions.begin() as session:
        me = principal(session, world.learner.id)
        saved, created = outcomes.save_report(session, me, learner_credential, report())
        assert created and saved.status is EmploymentStatus.employed_related
        with pytest.raises(OutcomeError) as refused:
            outcomes.save_report(session, me, learner_credential, report(), create_only=True)
        assert refused.value.status_code == 409
        updated, created = outcomes.save_report(
            session, me, learner_credential, report("further_study")
        )
        assert not created and updated.id == saved.id
        [row] = outcomes.my_reports(session, me)
        assert row.report is not None and row.report.status is EmploymentStatus.further_study


@pytest.mark.both_databases
def test_someone_elses_credential_is_not_found(
    db_backend: str, sessions: sessionmaker[Session], world: World, learner_credential: str
) -> None:
    with sessions.begin() as session:
        other = principal(session, world.staff.id)
        with pytest.raises(NotFound):
            outcomes.save_report(session, other, learner_credential, report())
        with pytest.raises(NotFound):
            outcomes.report_of(session, other, "no-such-credential")


def test_bad_reports_are_refused_with_the_field(
    sessions: sessionmaker[Session], world: World, learner_credential: str, settings: Settings
) -> None:
    with sessions.begin() as session:
        me = principal(session, world.learner.id)
        for bad, field in (
            (report("retired"), "status"),
            (report(since=date.today() + timedelta(days=2)), "status_since"),
            (outcomes.ReportInput("seeking_work", None), "status_since"),
            (outcomes.ReportInput("seeking_work", LAST_YEAR, "x" * 201), "job_title"),
        ):
            with pytest.raises(OutcomeError) as refused:
                outcomes.save_report(session, me, learner_credential, bad)
            assert refused.value.field == field
        revoke_credential(session, None, learner_credential, reason="Error", settings=settings)
        with pytest.raises(OutcomeError, match="revoked"):
            outcomes.save_report(session, me, learner_credential, report())
        assert outcomes.my_reports(session, me) == []


@pytest.mark.both_databases
def test_kpis_count_reports_in_aggregate_and_suppress_small_numbers(
    db_backend: str,
    sessions: sessionmaker[Session],
    world: World,
    definition_id: str,
    cohort: Cohort,
    settings: Settings,
) -> None:
    cohort(definition_id, 4)
    period = kpis.default_period(date.today())
    with sessions() as session:
        staff = principal(session, world.staff.id)
        found = outcomes.outcome_report(session, staff, "north-college", period, settings)
        assert found.overall.completed == 4
        assert found.overall.employment.suppressed and found.overall.employment.breakdown == {}
    cohort(definition_id, 2, "seeking_work")
    with sessions() as session:
        staff = principal(session, world.staff.id)
        found = outcomes.outcome_report(session, staff, "north-college", period, settings)
    [programme] = found.programmes
    assert programme.completed == programme.started == 6
    assert programme.completion_rate == 1.0
    assert programme.employment.related_share == 4 / 6
    assert programme.employment.breakdown[EmploymentStatus.seeking_work] == 2
    assert not found.market.available and programme.market_alignment is None
    assert programme.skills == 2
    assert found.overall.monthly_completions[-9][1] in (0, 6)  # 250 days ago: month -9 or -8
    assert sum(n for _, n in found.overall.monthly_completions) == 6


@pytest.mark.both_databases
def test_staff_of_one_issuer_never_read_anothers_kpis(
    db_backend: str,
    sessions: sessionmaker[Session],
    world: World,
    academy_definition_id: str,
    cohort: Cohort,
    settings: Settings,
) -> None:
    cohort(academy_definition_id, 5)
    period = kpis.default_period(date.today())
    with sessions() as session:
        for user_id in (world.staff.id, world.assessor.id, world.learner.id, world.employer.id):
            with pytest.raises(OutcomeForbidden):
                outcomes.outcome_report(
                    session, principal(session, user_id), "south-academy", period, settings
                )
        other = principal(session, world.other_staff.id)
        mine = outcomes.outcome_report(session, other, "south-academy", period, settings)
        assert mine.overall.employment.related_share == 1.0
        token = principal(session, world.other_staff.id, scopes=["credentials:read"])
        with pytest.raises(OutcomeForbidden):
            outcomes.outcome_report(session, token, "south-academy", period, settings)
        scoped = principal(session, world.other_staff.id, scopes=[outcomes.READ_SCOPE])
        assert outcomes.outcome_report(session, scoped, "south-academy", period, settings)


def test_a_period_is_parsed_and_checked() -> None:
    today = date(2026, 5, 20)
    assert outcomes.parse_period(None, None, today) == kpis.default_period(today)
    assert outcomes.parse_period("2026-01", "", today) == kpis.Period(date(2026, 1, 1), today)
    for since, until in (("2026-05-01", "2026-04-01"), ("soon", None), ("2000-01-01", None)):
        with pytest.raises(OutcomeError):
            outcomes.parse_period(since, until, today)


def test_the_csv_defuses_formulas_in_programme_names() -> None:
    period = kpis.Period(date(2026, 1, 1), date(2026, 3, 1))
    facts = kpis.ProgrammeFacts("d1", '=HYPERLINK("http://evil.example")', False)
    row = kpis.programme_kpis(facts, period, period.until)
    north = Organisation(slug="north", name="North")
    report = outcomes.OutcomeReport(north, period, row, [row], 0, outcomes.MarketAlignment(False))
    lines = outcomes.kpi_csv(report).splitlines()
    assert lines[0].split(",")[:3] == ["definition_id", "programme", "started"]
    assert lines[1].startswith("d1,\"'=HYPERLINK(")
    assert outcomes.SUPPRESSED in lines[1]

"""Talent search on both databases: who is found, by what, in which order, and who may look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, User
from microcred.accounts.service import Principal
from microcred.credentials.service import revoke_credential
from microcred.errors import PermissionDenied
from microcred.settings import Settings
from microcred.talent import service as talent
from microcred.talent.errors import TalentError, TalentForbidden
from microcred.wallet import profiles
from tests.catalogue.factories import PYTHON, SQL, TEAMWORK
from tests.conftest import World
from tests.talent.conftest import PROGRAMMING, Catalogue, Issue, Learner, add_import

pytestmark = pytest.mark.both_databases


def principal(session: Session, user_id: str, scopes: list[str] | None = None) -> Principal:
    user = session.get(User, user_id)
    assert user is not None
    return accounts.principal_for(session, user, scopes=scopes)


def search(
    sessions: sessionmaker[Session], world: World, asked: list[str], **options: object
) -> talent.TalentResults:
    filters = talent.Filters(**{k: v for k, v in options.items() if k in FILTER_FIELDS})  # type: ignore[arg-type]
    paging = {k: v for k, v in options.items() if k not in FILTER_FIELDS}
    with sessions.begin() as session:
        skills = talent.resolve_skills(
            session, asked, include_narrower=bool(options.get("include_narrower"))
        )
        return talent.search_talent(
            session,
            principal(session, world.employer.id),
            skills,
            filters,
            **paging,  # type: ignore[arg-type]
        )


FILTER_FIELDS = {"include_narrower", "min_matched", "min_eqf", "within_months"}


def names(results: talent.TalentResults) -> list[str]:
    return [c.name for c in results.candidates]


def test_only_consenting_learners_are_found_and_withdrawal_is_immediate(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    ana = make_learner("ana@example.org", "Ana")
    bo = make_learner("bo@example.org", "Bo", consent=False)
    issue(definitions.data_python, ana)
    issue(definitions.data_python, bo)
    assert names(search(sessions, world, [PYTHON])) == ["Ana"]
    with sessions.begin() as session:
        talent.set_searchable(session, principal(session, ana), False)
    assert search(sessions, world, [PYTHON]).total == 0
    with sessions.begin() as session:
        talent.set_searchable(session, principal(session, bo), True)
    assert names(search(sessions, world, [PYTHON])) == ["Bo"]


def test_revoked_suspended_expired_and_future_credentials_do_not_count(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue, settings: Settings,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    revoked = make_learner("r@example.org", "Revoked")
    suspended = make_learner("s@example.org", "Suspended")
    expired = make_learner("e@example.org", "Expired")
    future = make_learner("f@example.org", "Future")
    valid = make_learner("v@example.org", "Valid")
    gone = issue(definitions.data_python, revoked)
    paused = issue(definitions.data_python, suspended, status_purpose="suspension")
    issue(definitions.data_python, expired, valid_from=now - timedelta(days=400),
          valid_until=now - timedelta(days=1))  # fmt: skip
    issue(definitions.data_python, future, valid_from=now + timedelta(days=30))
    issue(definitions.data_python, valid, valid_until=now + timedelta(days=30))
    with sessions.begin() as session:
        revoke_credential(session, None, gone.id, reason="wrong person", settings=settings)
        revoke_credential(
            session, None, paused.id, reason="under review", purpose="suspension",
            settings=settings,
        )  # fmt: skip
    assert names(search(sessions, world, [PYTHON])) == ["Valid"]


def test_unverified_imports_and_declared_skills_do_not_count(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner,
) -> None:  # fmt: skip
    kept = make_learner("k@example.org", "Kept")
    failed = make_learner("x@example.org", "Failed")
    add_import(sessions, kept, [TEAMWORK, SQL], name="Team SQL")
    add_import(sessions, failed, [TEAMWORK], verified=False)
    results = search(sessions, world, [TEAMWORK])
    assert names(results) == ["Kept"]
    evidence = results.candidates[0].matches[0].credentials[0]
    assert (evidence.kind, evidence.name, evidence.issuer_name, evidence.page_path) == (
        "imported",
        "Team SQL",
        "Elsewhere U",
        None,
    )


def test_results_are_ranked_and_each_says_why(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    both = make_learner("both@example.org", "Both")
    sql_only = make_learner("sql@example.org", "SQL only")
    issue(definitions.data_python, both)
    earned = issue(definitions.sql_only, sql_only)
    results = search(sessions, world, [PYTHON, "SQL"])
    assert names(results) == ["Both", "SQL only"]
    assert results.total == 2
    top, second = results.candidates
    assert top.score.matched == 2 and second.score.matched == 1
    assert top.score.total > second.score.total
    assert second.score.explanation()[0] == "1 of 2 skills matched (+10)"
    assert "EQF level 6 (+3)" in second.score.explanation()
    [match] = second.matches
    assert match.skill.uri == SQL and match.skill.asked_as == "SQL" and not match.via_narrower
    [credential] = match.credentials
    assert credential.name == "Databases" and credential.issuer_name == "South Academy"
    assert credential.page_path == f"/credentials/{earned.id}"
    assert credential.eqf_level == 6
    assert [(h.skill.uri, h.learners) for h in results.holders] == [(PYTHON, 1), (SQL, 2)]
    assert second.email == "sql@example.org"


def test_filters_minimum_matches_eqf_level_and_recency(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    both = make_learner("both@example.org", "Both")
    sql_only = make_learner("sql@example.org", "SQL only")
    old = make_learner("old@example.org", "Old import")
    issue(definitions.data_python, both)
    issue(definitions.sql_only, sql_only)
    add_import(sessions, old, [SQL], earned_at=datetime(2015, 1, 1, tzinfo=UTC), eqf_level=7)
    both_skills = search(sessions, world, [PYTHON, SQL], min_matched=2)
    assert (names(both_skills), both_skills.total) == (["Both"], 1)
    # The holders count every learner holding each skill, whatever the minimum
    assert [h.learners for h in both_skills.holders] == [1, 3]
    # Learners below the minimum never fill a page, nor does the page past the last one lose
    # the counts
    for page in (2, 3, 4):
        past = search(sessions, world, [PYTHON, SQL], min_matched=2, page=page, per_page=1)
        assert (past.candidates, past.total, [h.learners for h in past.holders]) == ([], 1, [1, 3])
    assert names(search(sessions, world, [SQL], min_eqf=6)) == ["SQL only", "Old import"]
    assert set(names(search(sessions, world, [SQL], within_months=12))) == {"Both", "SQL only"}


def test_a_narrower_skill_matches_a_broader_query_when_asked(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    ana = make_learner("ana@example.org", "Ana")
    issue(definitions.data_python, ana)
    assert search(sessions, world, [PROGRAMMING]).total == 0
    results = search(sessions, world, [PROGRAMMING], include_narrower=True)
    assert names(results) == ["Ana"]
    [match] = results.candidates[0].matches
    assert match.via_narrower and match.skill.narrower == (PYTHON,)
    assert results.candidates[0].score.skill_points == 7.5


def test_a_posting_turns_into_skills_and_then_results(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    ana = make_learner("ana@example.org", "Ana")
    issue(definitions.sql_only, ana)
    with sessions() as session:
        extracted = talent.skills_in_posting(
            session, "We need an analyst who writes SQL every day and works in teams."
        )
    assert {s.uri for s in extracted} == {SQL, TEAMWORK}
    assert names(search(sessions, world, [s.uri for s in extracted])) == ["Ana"]
    with sessions() as session, pytest.raises(TalentError):
        talent.skills_in_posting(session, "Nothing to see here.")


def test_only_employers_and_platform_admins_search(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    platform_admin: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        skills = talent.resolve_skills(session, [SQL])
        for user in (world.learner, world.staff, world.assessor, world.admin, world.other_staff):
            with pytest.raises(PermissionDenied):
                talent.search_talent(session, principal(session, user.id), skills)
        token = principal(session, world.employer.id, scopes=["credentials:read"])
        with pytest.raises(TalentForbidden, match="talent:search"):
            talent.search_talent(session, token, skills)
        scoped = principal(session, world.employer.id, scopes=["talent:search"])
        assert talent.search_talent(session, scoped, skills).organisation_name == "Acme Ltd"
        root = session.scalars(select(User).where(User.email == platform_admin)).one()
        assert talent.search_talent(session, principal(session, root.id), skills).total == 0
        with pytest.raises(TalentForbidden):
            talent.search_talent(
                session, principal(session, world.employer.id), skills, organisation="north-college"
            )


def test_every_search_is_audited_under_the_employer_and_the_learner_sees_who(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    ana = make_learner("ana@example.org", "Ana")
    issue(definitions.sql_only, ana)
    search(sessions, world, [SQL])
    search(sessions, world, [SQL, PYTHON])
    with sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "talent.searched").order_by(AuditEvent.at)
        ).all()
        assert [e.organisation_id for e in events] == [world.employer_org.id] * 2
        assert events[1].details["skills"] == [SQL, PYTHON]
        assert events[1].details["result_count"] == 1 and events[1].details["shown"] == [ana]
        assert events[0].actor_user_id == world.employer.id
        [sighting] = talent.who_found_me(session, ana)
        assert (sighting.organisation_name, sighting.times) == ("Acme Ltd", 2)
        assert talent.who_found_me(session, world.learner.id) == []


def test_paging_is_bounded_and_stable(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    for n in range(5):
        issue(definitions.sql_only, make_learner(f"l{n}@example.org", f"Learner {n}"))
    first = search(sessions, world, [SQL], page=1, per_page=2)
    second = search(sessions, world, [SQL], page=2, per_page=2)
    third = search(sessions, world, [SQL], page=3, per_page=2)
    beyond = search(sessions, world, [SQL], page=4, per_page=2)
    assert (first.total, first.pages) == (5, 3)
    assert len(set(names(first) + names(second) + names(third))) == 5
    assert beyond.candidates == [] and beyond.total == 5
    with pytest.raises(TalentError, match="A page holds"):
        search(sessions, world, [SQL], per_page=talent.MAX_PER_PAGE + 1)
    with pytest.raises(TalentError, match="best"):
        search(sessions, world, [SQL], page=talent.MAX_RESULTS // 10 + 1, per_page=10)


def test_a_published_profile_is_linked(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner, issue: Issue,
) -> None:  # fmt: skip
    ana = make_learner("ana@example.org", "Ana")
    issue(definitions.sql_only, ana)
    assert search(sessions, world, [SQL]).candidates[0].profile_path is None
    with sessions.begin() as session:
        profiles.save_profile(session, principal(session, ana), handle="ana-s", published=True)
    assert search(sessions, world, [SQL]).candidates[0].profile_path == "/people/ana-s"


def test_labels_resolve_through_the_taxonomy_and_unknown_ones_are_refused(
    db_backend: str, sessions: sessionmaker[Session], taxonomy: dict[str, str]
) -> None:
    with sessions() as session:
        [python] = talent.resolve_skills(session, ["python"])
        assert python.uri == PYTHON and python.asked_as == "python"
        with pytest.raises(TalentError, match="No skill"):
            talent.resolve_skills(session, ["http://example.org/skill/nope"])
        with pytest.raises(TalentError, match="at least one"):
            talent.resolve_skills(session, ["  "])

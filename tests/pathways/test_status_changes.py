"""A component's revocation, suspension or reinstatement applies the pathway's policy at once,
in the status change's own transaction (credentials status listener)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any, NamedTuple
from unittest.mock import patch

import pytest
from alembic import command
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.credentials.models import CredentialState, StatusChange
from microcred.credentials.resolvers import verify
from microcred.db.engine import transaction
from microcred.db.migrate import alembic_config, downgrade, upgrade
from microcred.pathways import service
from microcred.pathways.models import AwardState, PathwayAward, PathwayAwardComponent
from microcred.settings import Settings
from tests.conftest import World
from tests.pathways.conftest import Catalogue, issue, sqlite_plan
from tests.pathways.test_service import cred, make_pathway


def issue_suspendable(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str
) -> str:
    with sessions.begin() as session:
        return credentials.issue_credential(
            session, None, definition_id=definition_id, recipient_email="learner@example.org",
            status_purpose="suspension", settings=settings,
        ).id  # fmt: skip


def both(defs: Catalogue) -> dict[str, Any]:
    return {"type": "all_of", "children": [cred(defs.python), cred(defs.sql)]}


def awarded(sessions: sessionmaker[Session], world: World, settings: Settings) -> PathwayAward:
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert result.award is not None and result.award.state is AwardState.active
        return result.award


Issuer = Callable[[sessionmaker[Session], Settings, str], str]


class Stacked(NamedTuple):
    award: PathwayAward
    python_id: str
    sql_id: str


def stacked(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    policy: str = "review", *, python: Issuer = issue, sql: Issuer = issue,
    suspendable: bool = False,
) -> Stacked:  # fmt: skip
    """A pathway of both components (stating ``policy``), the learner's two credentials, and the
    award they earn. ``suspendable``: the award's qualification is issued with a suspension entry
    (pathways issue it with a revocation entry), so that it can be suspended and reinstated."""
    with sessions.begin() as session:
        make_pathway(session, defs, both(defs), revocation_policy=policy)
    python_id = python(sessions, settings, defs.python)
    issuing = partial(credentials.issue_credential, status_purpose="suspension")
    # The second component completes the pathway: the award is made in its issuance.
    with patch.object(credentials, "issue_credential", issuing) if suspendable else nullcontext():
        sql_id = sql(sessions, settings, defs.sql)
    award = awarded(sessions, world, settings)
    return Stacked(award, python_id, sql_id)


class Chained(NamedTuple):
    first: PathwayAward
    second: PathwayAward
    python_id: str


def chained(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    first_policy: str, second_policy: str,
) -> Chained:  # fmt: skip
    """Pathway A (the Python credential) and pathway B, stacked on A's qualification, stating
    their policies; the learner's Python credential, and both awards (B's needs A's
    qualification, so progress runs twice)."""
    with sessions.begin() as session:
        make_pathway(
            session, defs, cred(defs.python), name="A first", revocation_policy=first_policy
        )
        make_pathway(
            session, defs, cred(defs.qualification), name="B second", qualification=None,
            revocation_policy=second_policy,
        )  # fmt: skip
    python_id = issue(sessions, settings, defs.python)
    with sessions.begin() as session:
        service.learner_progress(session, world.learner.id, settings)
        first, second = service.learner_progress(session, world.learner.id, settings)
        assert first.award is not None and second.award is not None
        return Chained(first.award, second.award, python_id)


def award_state(sessions: sessionmaker[Session], award_id: str) -> tuple[AwardState, str | None]:
    with sessions() as session:
        award = service.get_award(session, None, award_id)
        return award.state, award.state_reason


def credential_state(sessions: sessionmaker[Session], credential_id: str) -> CredentialState:
    with sessions() as session:
        return credentials.get_credential(session, credential_id).state


def revoke(
    sessions: sessionmaker[Session], settings: Settings, credential_id: str, purpose: str
) -> None:
    with sessions.begin() as session:
        credentials.revoke_credential(
            session, None, credential_id, reason="Misconduct", purpose=purpose, settings=settings
        )


def reinstate(sessions: sessionmaker[Session], settings: Settings, credential_id: str) -> None:
    with sessions.begin() as session:
        credentials.reinstate_credential(
            session, None, credential_id, reason="Appeal upheld", settings=settings
        )


@pytest.mark.both_databases
def test_revoke_policy_revokes_award_and_qualification_with_the_component(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, _ = stacked(sessions, world, defs, settings, "revoke")
    assert award.credential_id is not None

    revoke(sessions, settings, python_id, "revocation")

    state, reason = award_state(sessions, award.id)
    assert state is AwardState.revoked and f"issued:{python_id}" in (reason or "")
    assert credential_state(sessions, award.credential_id) is CredentialState.revoked
    with sessions() as session:
        qualification = credentials.get_credential(session, award.credential_id)
        report = verify(session, qualification.document, settings, allow_remote=False)
        assert report.failed("status") and not report.valid


@pytest.mark.both_databases
def test_revoking_many_at_once_applies_the_policy_like_one_at_a_time(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    """A job revoked in one call (``revoke_credentials``): the award built on its credentials
    and the award's qualification are revoked in the same transaction, and every status bit —
    the components', set at the end, and the qualification's, set by the policy on the way —
    is in the re-signed lists."""
    award, python_id, sql_id = stacked(sessions, world, defs, settings, "revoke")
    assert award.credential_id is not None
    with sessions.begin() as session:
        done = credentials.revoke_credentials(
            session, None, [python_id, sql_id], reason="Wrong file", settings=settings
        )
    assert done == credentials.ManyRevoked(2, 0)
    assert award_state(sessions, award.id)[0] is AwardState.revoked
    with sessions() as session:
        for credential_id in (python_id, sql_id, award.credential_id):
            credential = credentials.get_credential(session, credential_id)
            assert credential.state is CredentialState.revoked
            report = verify(session, credential.document, settings, allow_remote=False)
            assert report.failed("status") and not report.valid, credential_id


@pytest.mark.both_databases
def test_review_policy_flags_the_award_at_the_revocation(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, _, sql_id = stacked(sessions, world, defs, settings)

    revoke(sessions, settings, sql_id, "revocation")

    state, reason = award_state(sessions, award.id)
    assert state is AwardState.review and reason == f"{service.LOST_PREFIX}issued:{sql_id}"
    assert credential_state(sessions, award.credential_id or "") is CredentialState.active


def test_keep_policy_leaves_the_award_as_it_is(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, _ = stacked(sessions, world, defs, settings, "keep")

    revoke(sessions, settings, python_id, "revocation")

    assert award_state(sessions, award.id) == (AwardState.active, None)
    assert credential_state(sessions, award.credential_id or "") is CredentialState.active


def test_an_award_still_met_without_the_component_is_untouched(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    with sessions.begin() as session:
        make_pathway(
            session, defs, {"type": "any_of", "children": [cred(defs.python), cred(defs.sql)]},
            revocation_policy="revoke",
        )  # fmt: skip
    python_id = issue(sessions, settings, defs.python)
    sql_id = issue(sessions, settings, defs.sql)
    award = awarded(sessions, world, settings)
    assert f"issued:{python_id}" in award.components

    revoke(sessions, settings, python_id, "revocation")
    assert award_state(sessions, award.id) == (AwardState.active, None)

    revoke(sessions, settings, sql_id, "revocation")  # now nothing meets the pathway
    assert award_state(sessions, award.id)[0] is AwardState.revoked


@pytest.mark.both_databases
def test_suspension_flags_and_reinstatement_unflags_the_award(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, sql_id = stacked(
        sessions, world, defs, settings, python=issue_suspendable, sql=issue_suspendable
    )

    revoke(sessions, settings, python_id, "suspension")
    assert award_state(sessions, award.id)[0] is AwardState.review
    revoke(sessions, settings, sql_id, "suspension")  # already flagged: stays so
    assert award_state(sessions, award.id)[0] is AwardState.review

    reinstate(sessions, settings, python_id)
    state, reason = award_state(sessions, award.id)
    assert state is AwardState.review and reason == f"{service.LOST_PREFIX}issued:{sql_id}"

    reinstate(sessions, settings, sql_id)
    assert award_state(sessions, award.id) == (AwardState.active, None)
    with sessions() as session:
        assert service.awards_for_review(session, _staff(session, world)) == []


def test_a_revoke_policy_award_stays_revoked_after_reinstatement(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, _ = stacked(
        sessions, world, defs, settings, "revoke", python=issue_suspendable
    )

    revoke(sessions, settings, python_id, "suspension")
    reinstate(sessions, settings, python_id)

    assert award_state(sessions, award.id)[0] is AwardState.revoked
    assert credential_state(sessions, award.credential_id or "") is CredentialState.revoked


def _staff(session: Session, world: World) -> Any:
    from tests.pathways.conftest import principal_of

    return principal_of(session, world.staff)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.both_databases
def test_a_credential_in_no_award_costs_one_lookup_by_primary_key(
    sessions: sessionmaker[Session], engine: Engine, world: World, defs: Catalogue,
    settings: Settings, db_backend: str,
) -> None:  # fmt: skip
    stacked(sessions, world, defs, settings)
    loose_id = issue(sessions, settings, defs.teamwork)  # in no award

    with statements(engine) as seen:
        revoke(sessions, settings, loose_id, "revocation")

    touching = [sql for sql in seen if "pathway" in sql]
    assert len(touching) == 1 and "FROM pathway_award_components" in touching[0]
    assert credential_state(sessions, loose_id) is CredentialState.revoked
    if db_backend == "sqlite":
        details = sqlite_plan(
            engine,
            "SELECT DISTINCT award_id FROM pathway_award_components WHERE credential_id IN ('x')",
        )
        assert "SEARCH" in details and "SCAN pathway_award_components" not in details


def assert_revocation_rolls_back(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch,
    failing: str, award_id: str, credential_id: str,
) -> None:  # fmt: skip
    """Revoke ``credential_id`` while the pathways service's ``failing`` function raises: the
    revocation fails with it, and neither the credential nor the award changes."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("pathway bug")

    monkeypatch.setattr(service, failing, broken)
    with pytest.raises(RuntimeError, match="pathway bug"), transaction(sessions) as session:
        credentials.revoke_credential(
            session, None, credential_id, reason="Misconduct", settings=settings
        )

    assert credential_state(sessions, credential_id) is CredentialState.active
    assert award_state(sessions, award_id) == (AwardState.active, None)


def test_a_failing_pathway_policy_rolls_the_whole_revocation_back(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    award, python_id, _ = stacked(sessions, world, defs, settings, "revoke")

    assert_revocation_rolls_back(
        sessions, settings, monkeypatch, "progress_of", award.id, python_id
    )

    with sessions() as session:
        changes = select(func.count()).select_from(StatusChange)
        assert session.scalar(changes.where(StatusChange.credential_id == python_id)) == 0
        component = credentials.get_credential(session, python_id)
        assert verify(session, component.document, settings, allow_remote=False).valid


def test_awards_index_their_issued_components_and_a_kept_review_drops_the_lost_one(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, sql_id = stacked(sessions, world, defs, settings)

    def indexed() -> set[str]:
        with sessions() as session:
            query = select(PathwayAwardComponent.credential_id).where(
                PathwayAwardComponent.award_id == award.id
            )
            return set(session.scalars(query))

    assert indexed() == {python_id, sql_id}
    revoke(sessions, settings, sql_id, "revocation")
    with sessions.begin() as session:
        service.resolve_review(
            session, _staff(session, world), award.id, keep=True, settings=settings
        )
    assert indexed() == {python_id}


@pytest.mark.parametrize(
    "root",
    [
        "from microcred.web.app import create_app",
        "from microcred.cli.common import session_factory; session_factory()",
    ],
)
def test_the_web_app_and_the_cli_register_the_credentials_listeners(
    root: str, settings: Settings
) -> None:
    expected = {
        "status_changed": [
            "microcred.credentials.service._status_webhooks",
            "microcred.notifications.service.credentials_changed",
            "microcred.pathways.service.apply_policies_on_status_change",
        ],
        "issued": [
            "microcred.credentials.service._issued_webhooks",
            "microcred.notifications.mailing.credentials_issued",
            "microcred.notifications.service.credentials_issued",
            "microcred.pathways.service.award_on_issue",
        ],
        "job_completed": [
            "microcred.credentials.service._job_webhooks",
            "microcred.notifications.service.issuance_job_completed",
        ],
    }
    check = (
        f"{root}\n"
        "from microcred.credentials import events\n"
        f"for kind, wanted in {expected!r}.items():\n"
        "    names = sorted(f'{l.__module__}.{l.__name__}' for l in getattr(events, kind)())\n"
        "    assert names == wanted, (kind, names)\n"
    )
    env = {"MICROCRED_DATABASE_URL": settings.database_url, "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_migration_indexes_the_components_of_existing_awards(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, sql_id = stacked(sessions, world, defs, settings)
    command.stamp(alembic_config(settings.database_url), "head")
    downgrade(settings.database_url, "0002")  # drops the table
    upgrade(settings.database_url)  # creates it again from the awards' components

    with sessions() as session:
        rows = session.execute(
            select(PathwayAwardComponent.credential_id, PathwayAwardComponent.award_id)
        )
        assert sorted(rows) == sorted([(python_id, award.id), (sql_id, award.id)])


def test_a_revoked_qualification_carries_on_to_the_award_stacked_on_it(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    first, second, python_id = chained(sessions, world, defs, settings, "revoke", "review")
    first_id, second_id = first.id, second.id
    assert second.components == [f"issued:{first.credential_id}"]

    revoke(sessions, settings, python_id, "revocation")

    assert award_state(sessions, first_id)[0] is AwardState.revoked
    assert award_state(sessions, second_id)[0] is AwardState.review

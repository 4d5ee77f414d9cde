"""``microcred obapi``: the operator lists the registered apps and removes one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts.models import AuditEvent
from microcred.cli.main import app as cli
from microcred.obapi import protocol
from microcred.obapi import service as obapi
from microcred.obapi.models import ApiClient, ApiGrant, ApiToken
from tests.conftest import World
from tests.obapi.conftest import registration
from tests.obapi.test_service import _connect


@pytest.mark.both_databases
def test_the_operator_lists_apps_and_removing_one_ends_its_connections(
    db_backend: str, sessions: sessionmaker[Session], world: World, runner: CliRunner
) -> None:
    with sessions.begin() as session:
        connected_id, tokens = _connect(session, world, datetime.now(UTC))
        idle, _ = obapi.register_client(session, registration(client_name="Idle"), ip=None)
        idle_id = idle.id
    listed = runner.invoke(cli, ["obapi", "clients"])
    assert listed.exit_code == 0, listed.output
    lines = {line.split("\t")[0]: line.split("\t") for line in listed.output.splitlines()}
    assert lines[connected_id][1] == "Example Backpack" and lines[connected_id][-1] == (
        "1 connected"
    )
    assert lines[idle_id][1] == "Idle" and lines[idle_id][-1] == "0 connected"

    removed = runner.invoke(cli, ["obapi", "remove-client", connected_id, "--reason", "phishing"])
    assert removed.exit_code == 0, removed.output
    assert "1 connection ended" in removed.output
    with sessions() as session:
        assert session.get(ApiClient, connected_id) is None
        assert session.get(ApiClient, idle_id) is not None
        for table in (ApiGrant, ApiToken):
            assert session.scalar(select(func.count()).select_from(table)) == 0
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "obapi.client_removed")
        ).one()
        assert event.details["reason"] == "phishing" and event.details["connections"] == 1
    unknown = runner.invoke(cli, ["obapi", "remove-client", "nope", "--reason", "x"])
    assert unknown.exit_code == 2 and "No registered app" in unknown.output
    assert tokens.scopes == list(protocol.SCOPES)

"""``microcred pathways …`` against a real database: create, progress, transfer, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.pathways import service
from microcred.pathways.service import RuleInput
from microcred.settings import Settings
from tests.conftest import World
from tests.pathways.conftest import Catalogue, issue


def test_create_progress_and_transfer_from_the_command_line(
    runner: CliRunner, tmp_path: Path, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "name": "Loop",
                "kind": "certificate",
                "requirements": {"type": "any_of", "children": []},
            }
        )
    )
    refused = runner.invoke(
        app, ["pathways", "create", str(bad), "--organisation", "north-college"]
    )
    assert refused.exit_code == 2 and "requirements.children" in refused.output
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "name": "Data",
                "kind": "micro-degree",
                "requirements": {
                    "type": "all_of",
                    "children": [{"type": "credential", "definition_id": defs.sql}],
                },
            }
        )
    )
    created = runner.invoke(
        app, ["pathways", "create", str(good), "--organisation", "north-college", "--publish"]
    )
    assert created.exit_code == 0, created.output
    issue(sessions, settings, defs.sql)
    shown = runner.invoke(app, ["pathways", "progress", "learner@example.org", "--json"])
    assert shown.exit_code == 0, shown.output
    (progress,) = json.loads(shown.output)
    assert progress["complete"] and progress["award_id"]
    with sessions.begin() as session:
        agreement = service.create_agreement(
            session, None, "north-college", programme="BSc", name="Intake"
        )
        service.add_rule(
            session, None, agreement.id, RuleInput("definition", defs.sql, "DB-1", "Databases", 5)
        )
        agreement_id = agreement.id
    out = tmp_path / "clr.json"
    transferred = runner.invoke(
        app, ["pathways", "transfer", agreement_id, "learner@example.org", "--transcript", str(out)]
    )
    assert transferred.exit_code == 0, transferred.output
    assert "Total: 5 credits" in transferred.output
    assert json.loads(out.read_text())["type"] == ["VerifiableCredential", "ClrCredential"]
    missing = runner.invoke(app, ["pathways", "progress", "nobody@example.org"])
    assert missing.exit_code == 2

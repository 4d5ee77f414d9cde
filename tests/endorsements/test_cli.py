"""``microcred endorsements …`` against a real database: endorse, list, accept, withdraw, errors."""

from __future__ import annotations

import json
import re

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.endorsements.models import Endorsement, EndorsementState
from tests.conftest import World


def test_the_operator_endorses_accepts_and_withdraws_from_the_command_line(
    runner: CliRunner, world: World, definition_id: str, sessions: sessionmaker[Session]
) -> None:
    made = runner.invoke(
        app,
        ["endorsements", "endorse", "south-academy", "--definition", definition_id,
         "--comment", "Industry-aligned", "--valid-until", "2099-01-01T00:00:00+00:00"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    match = re.search(r"Endorsement ([0-9a-f]{32}) signed", made.output)
    assert match is not None
    endorsement_id = match.group(1)
    listed = runner.invoke(app, ["endorsements", "list", "north-college"])
    assert endorsement_id in listed.output and "pending" in listed.output
    given = runner.invoke(app, ["endorsements", "list", "south-academy", "--given"])
    assert endorsement_id in given.output
    assert runner.invoke(app, ["endorsements", "accept", endorsement_id]).exit_code == 0
    shown = runner.invoke(app, ["endorsements", "show", endorsement_id])
    assert json.loads(shown.output)["credentialSubject"]["endorsementComment"] == "Industry-aligned"
    no_reason = runner.invoke(app, ["endorsements", "withdraw", endorsement_id, "--reason", " "])
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    withdrawn = runner.invoke(app, ["endorsements", "withdraw", endorsement_id, "--reason", "Old"])
    assert withdrawn.exit_code == 0, withdrawn.output
    with sessions() as session:
        row = session.get(Endorsement, endorsement_id)
        assert row is not None and row.state is EndorsementState.withdrawn


def test_bad_command_line_input_exits_2_naming_the_problem(
    runner: CliRunner, world: World, definition_id: str
) -> None:
    cases = [
        (["endorse", "south-academy", "--comment", "x"], "definition_id"),
        (["endorse", "south-academy", "--definition", definition_id, "--comment", "x",
          "--valid-until", "soon"], "valid_until"),
        (["endorse", "north-college", "--definition", definition_id, "--comment", "x"], "endorser"),
        (["accept", "0" * 32], "No endorsement"),
        (["list", "nowhere"], "No organisation"),
    ]  # fmt: skip
    for arguments, expected in cases:
        result = runner.invoke(app, ["endorsements", *arguments])
        assert result.exit_code == 2, (arguments, result.output)
        assert expected in result.output

"""``microcred import results``, ``assessment list|dry-run|award|survey`` and their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from microcred.cli.main import app
from tests.assessment.conftest import Course


def test_import_dry_run_and_award_from_the_command_line(
    runner: CliRunner, tmp_path: Path, course: Course
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,assessment,score\nlearner@example.org,QUIZ-1,90\nx@y.org,QUIZ-1,101\n")
    refused = runner.invoke(
        app, ["import", "results", str(bad), "--definition", course.definition_id]
    )
    assert refused.exit_code == 2 and "line 3" in refused.output
    listed = runner.invoke(app, ["assessment", "list", course.definition_id, "--json"])
    assert {row["code"] for row in json.loads(listed.output)} == {"QUIZ-1", "PROJECT-1"}

    good = tmp_path / "good.csv"
    good.write_text("email,assessment,score\nlearner@example.org,QUIZ-1,90\n")
    imported = runner.invoke(
        app, ["import", "results", str(good), "--definition", course.definition_id, "--json"]
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["imported"] == [2]
    dry = runner.invoke(app, ["assessment", "dry-run", course.definition_id, "--json"])
    [row] = json.loads(dry.output)
    assert row["learner"] == "learner@example.org" and row["would_award"] is False
    awarded = runner.invoke(app, ["assessment", "award", course.definition_id])
    assert awarded.exit_code == 0 and "0 hold the credential" in awarded.output
    survey = runner.invoke(app, ["assessment", "survey", course.definition_id, "--json"])
    assert json.loads(survey.output)["responses"] == 0
    missing = runner.invoke(app, ["assessment", "dry-run", "nope"])
    assert missing.exit_code == 2

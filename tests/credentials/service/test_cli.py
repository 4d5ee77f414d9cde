"""``microcred issue`` (one, --bulk, --resume), ``microcred verify`` and ``credentials …``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from microcred.cli.main import app
from tests.conftest import World


def test_issue_verify_revoke_with_exit_codes(
    runner: CliRunner, tmp_path: Path, world: World, definition_id: str
) -> None:
    issued = runner.invoke(
        app, ["issue", "--definition", definition_id, "--email", "learner@example.org",
              "--level", "Competent", "--formats", "eddsa-jcs-2022,vc-jwt-es256", "--json"],
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output
    credential_id = json.loads(issued.output)["id"]
    path = tmp_path / "credential.json"
    path.write_text(runner.invoke(app, ["credentials", "show", credential_id]).output)
    jwt_path = tmp_path / "credential.jwt"
    jwt_path.write_text(
        runner.invoke(app, ["credentials", "show", credential_id, "--jwt", "vc-jwt-es256"]).output
    )
    for source in (path, jwt_path):
        verified = runner.invoke(app, ["verify", str(source), "--offline"])
        assert verified.exit_code == 0, verified.output
        assert "VALID" in verified.output
    report = json.loads(runner.invoke(app, ["verify", str(path), "--json", "--offline"]).output)
    assert report["valid"] is True
    revoked = runner.invoke(app, ["credentials", "revoke", credential_id, "--reason", "Error"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert runner.invoke(app, ["verify", str(path), "--offline"]).exit_code == 1
    truncated = tmp_path / "truncated.json"
    truncated.write_text(path.read_text()[:100])
    assert runner.invoke(app, ["verify", str(truncated), "--offline"]).exit_code == 2
    assert runner.invoke(app, ["verify", str(tmp_path / "missing.json")]).exit_code == 2
    bad = runner.invoke(app, ["issue", "--definition", definition_id, "--email", "nope"])
    assert bad.exit_code == 2 and "recipient_email" in bad.output


def test_bulk_from_a_file_then_the_same_file_issues_nothing(
    runner: CliRunner, tmp_path: Path, world: World, definition_id: str
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "definition_id,recipient_email,result_level\n"
        + "".join(f"{definition_id},b{n}@example.org,Novice\n" for n in range(4))
    )
    first = runner.invoke(
        app, ["issue", "--bulk", str(path), "--issuer", "north-college", "--json"]
    )
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output.strip().splitlines()[-1])
    assert (summary["issued"], summary["existing"]) == (4, 0)
    again = runner.invoke(
        app, ["issue", "--bulk", str(path), "--issuer", "north-college", "--json"]
    )
    assert json.loads(again.output.strip().splitlines()[-1])["existing"] == 4
    resumed = runner.invoke(app, ["issue", "--resume", summary["job"], "--json"])
    assert json.loads(resumed.output.strip().splitlines()[-1])["issued"] == 4  # already complete
    result = runner.invoke(app, ["credentials", "job-result", summary["job"]])
    assert result.output.count(",issued,") == 4
    assert runner.invoke(app, ["issue", "--bulk", str(path)]).exit_code == 2  # no --issuer
    revoked = runner.invoke(
        app, ["credentials", "revoke-job", summary["job"], "--reason", "Wrong file"]
    )
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked 4 credential(s)" in revoked.output
    assert "0 were revoked already" in revoked.output
    twice = runner.invoke(app, ["credentials", "revoke-job", summary["job"], "--reason", "Again"])
    assert "Revoked 0 credential(s)" in twice.output and "4 were revoked already" in twice.output
    missing = runner.invoke(app, ["credentials", "revoke-job", "0" * 32, "--reason", "x"])
    assert missing.exit_code != 0 and "No issuance job" in missing.output

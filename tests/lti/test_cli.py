"""``microcred lti``: list registrations and course links, sync a course's grades (for cron)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.assessment.models import AssessmentResult
from microcred.cli.main import app
from tests.lti.platform import TestPlatform
from tests.lti.test_ags import linked

__all__ = ["linked"]


def test_the_cli_lists_and_syncs(
    runner: CliRunner,
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    registration: str,
    sessions: sessionmaker[Session],
) -> None:
    listed = runner.invoke(app, ["lti", "platforms", "north-college"])
    assert listed.exit_code == 0, listed.output
    assert (
        registration in listed.output
        and "/lti/organisations/north-college/jwks.json" in listed.output
    )
    links = runner.invoke(app, ["lti", "links", "north-college"])
    assert linked in links.output and "AGS" in links.output
    lms.fail["/token"] = 500
    failed = runner.invoke(app, ["lti", "sync", "north-college", linked])
    assert failed.exit_code == 2
    assert "access token request" in failed.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AssessmentResult)) == 0
    del lms.fail["/token"]
    done = runner.invoke(app, ["lti", "sync", "north-college", linked, "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert (report["imported"], report["awarded"]) == (2, 1)
    missing = runner.invoke(app, ["lti", "sync", "south-academy", linked])
    assert missing.exit_code == 2 and "No such LMS resource link" in missing.output

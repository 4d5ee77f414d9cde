"""Names in any script, end to end: a definition, its credential, the pages, the badges."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials.baking import extract
from tests.catalogue.factories import definition_input
from tests.conftest import World, sign_in_client

NAME = "数据分析 — تحليل البيانات 🚀"
LEARNER = "李雷 Ñandú 😀"


def test_a_credential_named_in_several_scripts_issues_renders_bakes_and_verifies(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    with sessions.begin() as session:
        definition = catalogue.create_definition(
            session, None, "north-college",
            definition_input(name=NAME, human_code="DATA-102", learning_outcomes=["理解 数据"],
                             rubric_levels=[{"name": "Réussi", "description": "通过"}],
                             required_level="Réussi"),
            publish=True,
        )  # fmt: skip
    csrf = sign_in_client(client, world.staff.email)
    issued = client.post(
        "/manage/credentials/issue",
        data={"csrf_token": csrf, "definition_id": definition.definition_id,
              "organisation": "north-college", "recipient_email": "li@example.org",
              "recipient_name": LEARNER, "result_level": "Réussi"},
        follow_redirects=False,
    )  # fmt: skip
    assert issued.status_code == 303, issued.text
    page = client.get(issued.headers["location"])
    assert page.status_code == 200 and NAME in page.text and LEARNER in page.text
    assert "✔</span> Valid" in page.text
    credential_id = re.search(r"/credentials/([0-9a-f]{32})", issued.headers["location"])
    assert credential_id is not None
    base = f"/credentials/{credential_id.group(1)}"
    for image in ("badge.png", "badge.svg"):
        baked = client.get(f"{base}/{image}")
        assert baked.status_code == 200, image
        assert NAME in extract(baked.content).text
        report = client.post("/api/v1/verify", files={"file": (image, baked.content)})
        assert report.json()["valid"] is True, report.json()
    assert client.get(f"/definitions/{definition.definition_id}/image.svg").status_code == 200
    listing = client.get("/manage/credentials", params={"q": "李雷"})
    assert LEARNER in listing.text
    export = client.get("/manage/credentials/export.csv")
    assert LEARNER in export.content.decode("utf-8")
    found = client.get("/catalogue", params={"q": "数据分析"})
    assert found.status_code == 200 and NAME in found.text

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import Organisation
from microcred.catalogue import service as catalogue
from microcred.market.analytics import Analytics, Filters, SkillCount
from microcred.market.pipeline import IngestReport
from microcred.market.store import MarketStore
from microcred.settings import Settings
from microcred.skills.models import Skill, TaxonomyVersion
from tests.catalogue.factories import definition_input
from tests.conftest import World
from tests.market.helpers import technology_vocabulary


@pytest.fixture
def market(
    settings: Settings,
    sessions: sessionmaker[Session],
    world: World,
    ingested: tuple[MarketStore, IngestReport],
) -> dict[str, str]:
    """The ingested corpus beside this test's database; skills and two North College credentials."""
    shutil.copytree(ingested[0].root, settings.data_dir / "market")
    with Analytics(ingested[0]) as analytics:
        top = analytics.top_skills(Filters(region="Bayern"), 400)
        named = set(analytics.labels)  # every skill some posting names
    demanded = top[0]
    unnamed = next(c for c in technology_vocabulary() if c.uri not in named)
    rare = SkillCount(unnamed.uri, unnamed.preferred_label, 0, 0.0)
    with sessions.begin() as session:
        version = TaxonomyVersion(name="test", fingerprint="1" * 64, is_current=True)
        session.add(version)
        session.flush()
        for skill in (demanded, rare, top[1]):
            session.add(
                Skill(
                    uri=skill.skill_uri,
                    preferred_label=skill.label,
                    source="onet",
                    skill_type="technology",
                    taxonomy_version_id=version.id,
                )
            )
        session.execute(
            update(Organisation)
            .where(Organisation.slug == "north-college")
            .values(region="Bayern", country="DE")
        )
        session.flush()
        catalogue.create_definition(
            session,
            None,
            "north-college",
            definition_input(
                name="Everyday office software", skills=[demanded.skill_uri], human_code="M-1"
            ),
            publish=True,
        )
        catalogue.create_definition(
            session,
            None,
            "north-college",
            definition_input(name="A niche tool", skills=[rare.skill_uri], human_code="M-2"),
            publish=True,
        )
    return {
        "demanded": demanded.skill_uri,
        "rare": rare.skill_uri,
        "second": top[1].skill_uri,
        "demanded_label": demanded.label,
        "second_label": top[1].label,
        "rare_label": rare.label,
    }


def test_market_api_answers_the_analytics_questions(
    client: TestClient, market: dict[str, str]
) -> None:
    overview = client.get("/api/v1/market/overview").json()
    assert overview["postings"] > 500
    top = client.get("/api/v1/market/top-skills", params={"region": "Bayern", "limit": 3}).json()
    assert top[0]["skill_uri"] == market["demanded"] and len(top) == 3
    demand = client.get(
        "/api/v1/market/demand", params={"skill": market["demanded"], "region": "Bayern"}
    ).json()
    assert sum(cell["postings"] for cell in demand) == top[0]["postings"]
    trend = client.get("/api/v1/market/skills/trend", params={"uri": market["demanded"]}).json()
    assert len(trend) == 24
    trends = client.get("/api/v1/market/trends", params={"months": 12}).json()
    assert any(t["direction"] == "rising" for t in trends)
    together = client.get("/api/v1/market/cooccurrence", params={"uri": market["demanded"]})
    assert together.status_code == 200 and together.json()[0]["lift"] > 0
    salaries = client.get("/api/v1/market/salaries", params={"min_postings": 3}).json()
    assert salaries and salaries[0]["median"] > 0


def test_gap_report_names_uncovered_demand_and_rarely_demanded_credentials(
    client: TestClient, market: dict[str, str]
) -> None:
    report = client.get("/api/v1/market/gap/north-college").json()
    assert report["region"] == "Bayern" and report["credentials"] == 2
    gap_uris = [skill["skill_uri"] for skill in report["gaps"]]
    assert market["demanded"] not in gap_uris and gap_uris[0] == market["second"]
    assert [c["name"] for c in report["oversupplied"]] == ["A niche tool"]
    # A skill no posting names keeps its catalogue label (the market store has none for it).
    covered = {skill["skill_uri"]: skill for skill in report["covered"]}
    assert covered[market["rare"]]["label"] == market["rare_label"] != market["rare"]
    assert covered[market["rare"]]["postings"] == 0
    page = client.get("/market/gap/north-college")
    assert page.status_code == 200 and market["second_label"] in page.text
    niche = report["oversupplied"][0]["definition_id"]
    assert f'href="/definitions/{niche}"' in page.text
    assert client.get("/api/v1/market/gap/no-such-issuer").status_code == 404


def test_pages_render_server_side_charts_without_inline_style(
    client: TestClient, market: dict[str, str]
) -> None:
    for url, params in (
        ("/market", {"region": "Bayern"}),
        ("/market/skills/view", {"uri": market["demanded"]}),
    ):
        page = client.get(url, params=params)
        assert page.status_code == 200
        assert "<svg" in page.text and "style=" not in page.text and "<script" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    assert market["demanded_label"] in client.get("/market").text


def test_bad_filters_are_4xx_with_the_field(client: TestClient, market: dict[str, str]) -> None:
    response = client.get("/api/v1/market/top-skills", params={"since": "2024-13"})
    assert response.status_code == 400 and response.json()["field"] == "since"
    response = client.get("/api/v1/market/top-skills", params={"since": "last year"})
    assert response.status_code == 422
    missing = client.get("/market/skills/view", params={"uri": "urn:none"})
    assert missing.status_code == 404


def test_without_postings_the_api_says_how_to_ingest(client: TestClient) -> None:
    response = client.get("/api/v1/market/top-skills")
    assert response.status_code == 404 and "ingest" in response.json()["message"]
    page = client.get("/market")
    assert page.status_code == 200 and "microcred market ingest" in page.text


def test_extraction_api(client: TestClient, market: dict[str, str]) -> None:
    text = f"We need someone fluent in {market['demanded_label']}."
    response = client.post("/api/v1/skills/extract", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    assert body["uris"] == [market["demanded"]]
    match = body["skills"][0]
    assert text[match["start"] : match["end"]] == match["text"] and match["method"] == "gazetteer"
    empty = client.post("/api/v1/skills/extract", json={"text": "   "})
    assert empty.status_code == 400 and empty.json()["field"] == "text"
    assert (
        client.post("/api/v1/skills/extract", json={"text": "x", "mode": "magic"}).status_code
        == 422
    )


def test_long_bar_labels_end_in_an_ellipsis_and_keep_the_whole_label_as_title() -> None:
    import re

    from microcred.market.charts import MAX_LABEL, bar_chart

    long_label = "Amazon Web Services AWS software & <cloud>"
    svg = bar_chart("Top", [(long_label, 0.2), ("Excel", 0.1)])
    labels = re.findall(r'<text class="chart-label"[^>]*><title>([^<]*)</title>([^<]*)</text>', svg)
    assert labels[0][0] == "Amazon Web Services AWS software &amp; &lt;cloud&gt;"
    assert labels[0][1].endswith("…") and len(labels[0][1]) <= MAX_LABEL
    assert labels[1] == ("Excel", "Excel")


def test_a_chart_s_figures_are_a_table_of_escaped_labels_and_formatted_values() -> None:
    from microcred.market.charts import figures

    html = figures("Top <skills>", ("Skill", "Share"), [("C & C++", 0.25), ("Excel", 0.1)])
    assert html.startswith('<details class="chart-figures"><summary>Figures')
    assert '<caption class="visually-hidden">Top &lt;skills&gt;</caption>' in html
    assert '<th scope="col">Skill</th><th scope="col">Share</th>' in html
    assert '<tr><th scope="row">C &amp; C++</th><td>25.0%</td></tr>' in html
    assert '<tr><th scope="row">Excel</th><td>10.0%</td></tr>' in html

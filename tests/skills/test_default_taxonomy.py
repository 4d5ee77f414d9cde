"""The default taxonomy from the real shared data: loader, service, API pages and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred import __version__
from microcred.skills import service
from microcred.skills.loader import load_default_taxonomy
from microcred.skills.models import Skill
from tests.conftest import SHARED_DIR

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
ICT_SECURITY_ADMIN = "http://data.europa.eu/esco/occupation/0464b062-cea6-4164-b10d-956c61956ae7"
SOFTWARE_DEVELOPERS = "https://www.onetonline.org/link/summary/15-1252.00"
ICT_FIELD = "http://data.europa.eu/esco/isced-f/06"


def test_default_load_records_counts_and_sources(
    default_load_summary: tuple[Path, str], session: Session
) -> None:
    summary = default_load_summary[1]
    assert summary.startswith("Loaded skills taxonomy ESCO")
    version = service.taxonomy_versions(session)[0]
    assert version.is_current
    assert version.counts["skills"] > 20_000
    assert version.counts["occupations"] > 4_000
    assert version.counts["occupation_skills"] > 30_000
    assert {"esco-subset", "O*NET Technology_Skills"} <= {s["name"] for s in version.sources}
    assert all(len(s["sha256"]) == 64 for s in version.sources)


def test_second_load_with_the_same_sources_is_quick_and_says_so(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        summary = load_default_taxonomy(session, SHARED_DIR)
    assert "unchanged, nothing to do" in summary
    with sessions() as session:
        assert len(service.taxonomy_versions(session)) == 1


def test_reload_after_a_lost_row_synchronises_by_uri(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        before = service.get_skill(session, PYTHON).id
        session.execute(Skill.__table__.delete().where(Skill.uri == ICT_FIELD))
    with sessions.begin() as session:
        assert "Loaded skills taxonomy" in load_default_taxonomy(session, SHARED_DIR)
    with sessions() as session:
        assert service.get_skill(session, PYTHON).id == before
        assert service.get_skill(session, ICT_FIELD).is_group
        assert sum(v.is_current for v in service.taxonomy_versions(session)) == 1


def test_subset_labels_are_authoritative_and_playground_adds_type_and_field(
    session: Session,
) -> None:
    skill = service.get_skill(session, PYTHON)
    assert skill.preferred_label == "Python (computer programming)"
    assert skill.skill_type == "knowledge"
    assert "Python" in skill.alt_labels
    assert ICT_FIELD in [r.uri for r in service.skill_broader(session, PYTHON)]


def test_playground_occupations_have_essential_skills_resolved_to_uris(session: Session) -> None:
    needs = service.occupation_skills(session, ICT_SECURITY_ADMIN)
    assert len(needs) == 21
    assert {n.relation_type for n in needs} == {"essential"}
    assert "maintain database security" in {n.skill_label for n in needs}


def test_onet_occupation_has_technologies_with_flags_and_classes(session: Session) -> None:
    needs = service.occupation_skills(session, SOFTWARE_DEVELOPERS)
    assert needs and all(n.source == "onet" for n in needs)
    assert any(n.hot_technology for n in needs)
    occupation = service.get_occupation(session, SOFTWARE_DEVELOPERS)
    assert (occupation.code, occupation.job_zone) == ("15-1252.00", 4)
    assert len(occupation.alt_labels) > 10
    technology = next(n for n in needs if n.skill_type == "technology")
    assert service.skill_broader(session, technology.skill_uri)[0].relation_type == "member"


def test_search_on_the_real_taxonomy_finds_exact_prefix_and_fuzzy_matches(
    session: Session,
) -> None:
    """Speed is measured by benchmarks/skills_search.py, not here."""
    for query, kind in (("Python", "exact"), ("project manag", "prefix"), ("teemwork", "fuzzy")):
        hits = service.search_skills(session, query, limit=20)
        assert hits[0].match == kind, (query, hits[:3])
    assert service.search_occupations(session, "software developer")[0].match == "exact"


def test_unknown_uri_and_bad_limits_are_clear_errors(session: Session) -> None:
    with pytest.raises(service.SkillNotFound, match="No skill with URI"):
        service.get_skill(session, "http://example.org/nope")
    with pytest.raises(service.SkillError) as error:
        service.search_skills(session, "python", limit=0)
    assert error.value.field == "limit"
    assert service.skills_by_uri(session, [PYTHON, "http://example.org/nope"]).keys() == {PYTHON}


def test_api_search_resolve_occupation_and_taxonomy(client: TestClient) -> None:
    hits = client.get("/api/v1/skills", params={"q": "python", "limit": 5}).json()
    assert hits[0]["match"] == "exact" and len(hits) <= 5
    skill = client.get(f"/api/v1/skills/{PYTHON}").json()
    assert skill["preferred_label"] == "Python (computer programming)"
    assert client.get("/api/v1/skills/resolve", params={"uri": PYTHON}).json() == skill
    occupation = client.get("/api/v1/occupations/resolve", params={"uri": ICT_SECURITY_ADMIN})
    assert len(occupation.json()["skills"]) == 21
    assert client.get("/api/v1/occupations", params={"q": "nurse"}).json()
    taxonomy = client.get("/api/v1/taxonomy").json()
    assert taxonomy[0]["is_current"] and taxonomy[0]["sources"]
    missing = client.get("/api/v1/skills/resolve", params={"uri": "http://example.org/x"})
    assert missing.status_code == 404 and missing.json()["error"] == "SkillNotFound"
    assert client.get("/api/v1/skills", params={"q": "x", "limit": 0}).status_code == 422
    schema = client.get("/api/v1/openapi.json").json()
    assert "SkillOut" in schema["components"]["schemas"]


def test_pages_search_skill_occupation_and_about(client: TestClient) -> None:
    page = client.get("/skills", params={"q": "project management"})
    assert page.status_code == 200 and "project management" in page.text
    skill = client.get("/skills/view", params={"uri": PYTHON})
    assert (
        "Python (computer programming)" in skill.text and "Occupations that need it" in skill.text
    )
    assert client.get("/occupations/view", params={"uri": ICT_SECURITY_ADMIN}).status_code == 200
    about = client.get("/about").text
    assert "ESCO, European Commission" in about and "CC BY 4.0" in about and "SkillSpan" in about
    assert "Loaded taxonomy" in about
    # The footer's version is the package's, never the page's taxonomy object.
    for text in (page.text, about):
        assert f"microcred {__version__} ·" in text and "object at 0x" not in text
    assert client.get("/skills/view", params={"uri": "http://example.org/x"}).status_code == 404


def test_cli_search_json_and_load(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from microcred.cli.main import app
    from microcred.settings import get_settings

    monkeypatch.setenv("MICROCRED_DATABASE_URL", db_url)
    monkeypatch.setenv("MICROCRED_SHARED_DIR", str(SHARED_DIR))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["skills", "search", "python", "--json", "--limit", "3"])
        assert result.exit_code == 0, result.output
        hits = json.loads(result.output)
        assert hits[0]["match"] == "exact" and hits[0]["label"].lower().startswith("python")
        assert len(hits) == 3
        loaded = runner.invoke(app, ["skills", "load"])
        assert loaded.exit_code == 0 and "nothing to do" in loaded.output
        bad = runner.invoke(app, ["skills", "search", "python", "--limit", "0"])
        assert bad.exit_code == 2
        missing = runner.invoke(app, ["import", "taxonomy", str(SHARED_DIR / "nowhere")])
        assert missing.exit_code == 2
    finally:
        get_settings.cache_clear()


def test_skill_count_excludes_groups(session: Session) -> None:
    groups = session.scalar(select(func.count()).select_from(Skill).where(Skill.is_group))
    assert groups and service.skill_count(session) + groups == session.scalar(
        select(func.count()).select_from(Skill)
    )

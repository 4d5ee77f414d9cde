"""``microcred market …`` and ``microcred skills extract`` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.settings import Settings, get_settings
from microcred.skills.models import Occupation, Skill, TaxonomyVersion
from tests.conftest import SHARED_DIR, World
from tests.market.helpers import onet_occupations, technology_vocabulary


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("MICROCRED_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MICROCRED_SHARED_DIR", str(SHARED_DIR))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def taxonomy(sessions: sessionmaker[Session]) -> None:
    """O*NET technologies as skills and O*NET occupations, as the taxonomy loader would."""
    with sessions.begin() as session:
        version = TaxonomyVersion(name="O*NET test", fingerprint="2" * 64, is_current=True)
        session.add(version)
        session.flush()
        session.execute(
            insert(Skill),
            [
                {
                    "uri": c.uri,
                    "preferred_label": c.preferred_label,
                    "alt_labels": [],
                    "source": "onet",
                    "skill_type": "technology",
                    "taxonomy_version_id": version.id,
                }
                for c in technology_vocabulary()
            ],
        )
        session.execute(
            insert(Occupation),
            [
                {
                    "uri": o.uri,
                    "preferred_label": o.preferred_label,
                    "alt_labels": list(o.alt_labels),
                    "code": o.code,
                    "source": "onet",
                    "taxonomy_version_id": version.id,
                }
                for o in onet_occupations()
            ],
        )


def test_synthesise_ingest_and_query_from_the_command_line(
    runner: CliRunner, tmp_path: Path, world: World, taxonomy: None
) -> None:
    corpus = tmp_path / "postings.csv"
    made = runner.invoke(app, ["market", "synth", str(corpus), "--count", "300", "--seed", "4"])
    assert made.exit_code == 0, made.output
    ingested = runner.invoke(
        app, ["market", "ingest", str(corpus), "--json", "--chunk-size", "100"]
    )
    assert ingested.exit_code == 0, ingested.output
    report = json.loads(ingested.stdout)
    assert report["rows_read"] == 300 and report["inserted"] > 250
    again = runner.invoke(app, ["market", "ingest", str(corpus)])
    assert again.exit_code == 0 and "already ingested" in again.output
    top = json.loads(runner.invoke(app, ["market", "top", "--json", "--limit", "3"]).stdout)
    assert len(top) == 3 and top[0]["postings"] >= top[1]["postings"]
    assert runner.invoke(app, ["market", "trends"]).exit_code == 0
    assert runner.invoke(app, ["market", "overview"]).exit_code == 0
    gap = runner.invoke(app, ["market", "gap", "north-college", "--json"])
    assert gap.exit_code == 0 and json.loads(gap.stdout)["issuer_slug"] == "north-college"


def test_extract_prints_spans_and_json(runner: CliRunner, tmp_path: Path, taxonomy: None) -> None:
    text = tmp_path / "cv.txt"
    text.write_text("Five years of Microsoft Excel and Python; some Adobe Acrobat.")
    result = runner.invoke(app, ["skills", "extract", "--file", str(text), "--json"])
    assert result.exit_code == 0, result.output
    labels = {match["label"] for match in json.loads(result.stdout)["skills"]}
    assert {"Microsoft Excel", "Python", "Adobe Acrobat"} <= labels
    table = runner.invoke(app, ["skills", "extract", "--text", "Microsoft Excel"])
    assert table.exit_code == 0 and "Microsoft Excel" in table.output


@pytest.mark.parametrize(
    "arguments",
    [
        ["skills", "extract"],
        ["skills", "extract", "--text", "   "],
        ["skills", "extract", "--file", "/no/such/file"],
        ["skills", "extract", "--text", "x", "--mode", "magic"],
        ["market", "ingest", "/no/such/file.csv"],
        ["market", "ingest", "x.csv", "--engine", "spark"],
        ["market", "top"],
        ["market", "top", "--since", "2024-13"],
    ],
)
def test_bad_input_exits_with_code_2(runner: CliRunner, arguments: list[str]) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output

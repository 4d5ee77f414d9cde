"""``microcred import catalogue`` and ``microcred catalogue list/show`` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.settings import Settings, get_settings
from tests.catalogue.factories import definition_input
from tests.conftest import World


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MICROCRED_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MICROCRED_BASE_URL", "https://microcred.example")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def write(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(rows, indent=1))
    return path


def test_import_refuses_bad_rows_with_exit_2_then_partial_imports_the_rest(
    runner: CliRunner, tmp_path: Path, world: World, skills: dict[str, str]
) -> None:
    path = write(tmp_path, [definition_input(human_code="A"),
                            definition_input(human_code="B", workload_hours=-4)])  # fmt: skip
    refused = runner.invoke(app, ["import", "catalogue", str(path), "--issuer", "north-college"])
    assert refused.exit_code == 2
    assert "workload_hours" in refused.output and "line" in refused.output
    listed = runner.invoke(app, ["catalogue", "list", "--json"])
    assert json.loads(listed.output)["total"] == 0

    partial = runner.invoke(
        app, ["import", "catalogue", str(path), "--issuer", "north-college", "--partial",
              "--publish", "--json"],
    )  # fmt: skip
    assert partial.exit_code == 0, partial.output
    report = json.loads(partial.output)
    assert len(report["imported"]) == 1 and report["problems"][0]["field"] == "workload_hours"
    items = json.loads(runner.invoke(app, ["catalogue", "list", "--json"]).output)["items"]
    assert [item["code"] for item in items] == ["A"]
    shown = runner.invoke(app, ["catalogue", "show", items[0]["id"]])
    assert json.loads(shown.output)["id"].startswith("https://microcred.example/definitions/")


def test_import_names_an_unknown_issuer_and_missing_file(
    runner: CliRunner, tmp_path: Path, world: World
) -> None:
    missing = runner.invoke(
        app, ["import", "catalogue", str(tmp_path / "none.csv"), "--issuer", "north-college"]
    )
    assert missing.exit_code == 2 and "file" in missing.output
    unknown = runner.invoke(
        app, ["import", "catalogue", str(write(tmp_path, [])), "--issuer", "nobody"]
    )
    assert unknown.exit_code == 2 and "nobody" in unknown.output

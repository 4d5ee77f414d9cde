"""``microcred verify FILE…``: several files, a folder or a ZIP are a batch with exit codes 0 all
valid, 1 some invalid, 2 some unreadable; one file keeps its report and exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.settings import Settings
from tests.credentials.batch_helpers import Issued, issued, make_zip
from tests.credentials.service.conftest import definition_id, skills

__all__ = ["definition_id", "issued", "skills"]


def _write(folder: Path, files: dict[str, bytes | str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths.append(path)
    return paths


def test_several_files_exit_0_when_all_are_valid_and_print_a_table(
    runner: CliRunner, tmp_path: Path, issued: Issued
) -> None:
    paths = _write(tmp_path, {"alice.json": issued.valid_json, "bob.jwt": issued.valid_jwt,
                              "carol.png": issued.baked_png})  # fmt: skip
    result = runner.invoke(app, ["verify", *map(str, paths), "--offline"])
    assert result.exit_code == 0, result.output
    assert "3 items: 3 valid, 0 invalid, 0 unreadable" in result.output
    assert "2 duplicates" in result.output  # the same credential three ways


def test_a_folder_with_an_invalid_one_exits_1_and_json_lists_the_rows(
    runner: CliRunner, tmp_path: Path, issued: Issued
) -> None:
    folder = tmp_path / "applications"
    _write(folder / "alice", {"badge.png": issued.baked_png})
    _write(folder, {"revoked.json": issued.revoked_json, ".hidden.json": "{}"})
    result = runner.invoke(app, ["verify", str(folder), "--json", "--offline"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [(r["name"], r["verdict"]) for r in report["rows"]] == [
        ("applications/alice/badge.png", "valid"), ("applications/revoked.json", "invalid"),
    ]  # fmt: skip
    assert report["rows"][1]["status"] == "revoked"
    assert report["totals"]["invalid"] == 1


def test_a_zip_with_an_unreadable_entry_exits_2_and_csv_with_applicants(
    runner: CliRunner, tmp_path: Path, issued: Issued
) -> None:
    archive = tmp_path / "export.zip"
    archive.write_bytes(
        make_zip({"a.json": issued.valid_json.encode(), "cv.txt": b"my CV", "../x.json": b"{}"})
    )
    people = tmp_path / "people.csv"
    people.write_text("item,email,name\na.json,learner@example.org,Lee\n")
    result = runner.invoke(
        app, ["verify", str(archive), "--csv", "--applicants", str(people), "--offline"]
    )
    assert result.exit_code == 2, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["verdict"] for row in rows[:3]] == ["valid", "unreadable", "unreadable"]
    assert rows[0]["issued to applicant"] == "yes" and rows[0]["applicant name"] == "Lee"
    assert "'..' in its path" in rows[2]["problems"]


def test_one_file_keeps_the_single_report_and_a_missing_applicants_file_is_an_error(
    runner: CliRunner, tmp_path: Path, issued: Issued
) -> None:
    (path,) = _write(tmp_path, {"alice.json": issued.valid_json})
    single = runner.invoke(app, ["verify", str(path), "--json", "--offline"])
    assert single.exit_code == 0 and json.loads(single.output)["valid"] is True
    assert "checks" in json.loads(single.output)
    missing = runner.invoke(
        app, ["verify", str(path), "--applicants", str(tmp_path / "none.csv"), "--offline"]
    )
    assert missing.exit_code == 2 and "Cannot read" in missing.output


def test_references_from_a_file_are_a_batch_and_nothing_at_all_is_a_usage_error(
    runner: CliRunner, tmp_path: Path, settings: Settings, issued: Issued
) -> None:
    links = tmp_path / "links.txt"
    links.write_text(f"{settings.base_url}/credentials/{issued.valid_id}\nnot a link\n")
    result = runner.invoke(app, ["verify", "--references", str(links), "--json", "--offline"])
    assert result.exit_code == 2, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [row["verdict"] for row in rows] == ["valid", "unreadable"]
    nothing = runner.invoke(app, ["verify"])
    assert nothing.exit_code == 2 and "--references" in nothing.output

"""Skills commands: ``skills search``, ``skills load`` and ``import taxonomy DIR``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microcred.cli.common import console, exits_cleanly, unit_of_work
from microcred.settings import get_settings

skills_app = typer.Typer(help="Skills taxonomy (ESCO, O*NET).", no_args_is_help=True)


@skills_app.command("search")
@exits_cleanly
def search(
    query: Annotated[str, typer.Argument(help="Words to look for in skill labels")],
    limit: Annotated[int, typer.Option(help="Most results to show")] = 20,
    skill_type: Annotated[
        str | None, typer.Option("--type", help="skill/competence, knowledge, technology …")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Search skills by preferred or alternative label (exact, prefix, fuzzy)."""
    from microcred.skills.service import search_skills

    with unit_of_work() as session:
        hits = search_skills(session, query, limit=limit, skill_type=skill_type)
    if as_json:
        typer.echo(json.dumps([vars(hit) for hit in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        console.print(f"No skill matches {query!r}.")
        return
    table = Table("Skill", "Matched label", "Match", "Score", "URI")
    for hit in hits:
        table.add_row(hit.label, hit.matched_label, hit.match, f"{hit.score:.2f}", hit.uri)
    console.print(table)


@skills_app.command("load")
@exits_cleanly
def load() -> None:
    """Load the default taxonomy (ESCO sources and O*NET 29.2); does nothing if unchanged."""
    from microcred.skills.loader import load_default_taxonomy

    with unit_of_work() as session:
        summary = load_default_taxonomy(session, get_settings().shared_dir, progress=True)
    console.print(summary)


def import_taxonomy(
    directory: Annotated[
        Path, typer.Argument(help="Folder with the ESCO CSV download (skills_en.csv …)")
    ],
    with_onet: Annotated[
        bool, typer.Option(help="Also load O*NET 29.2 from the shared data folder")
    ] = True,
) -> None:
    """Load the official ESCO CSV download (skills, occupations, relations, hierarchy)."""
    from microcred.skills.loader import import_esco_directory

    onet = get_settings().shared_dir / "data" / "onet" if with_onet else None
    with unit_of_work() as session:
        summary = import_esco_directory(session, directory, onet_dir=onet, progress=True)
    console.print(summary)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this capability's commands to the main app and the import group."""
    app.add_typer(skills_app, name="skills")
    import_app.command("taxonomy")(exits_cleanly(import_taxonomy))

"""Market and extraction commands: ``microcred market …`` and ``microcred skills extract``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from microcred.cli.common import console, exits_cleanly, unit_of_work
from microcred.market.analytics import Filters
from microcred.market.errors import MarketError
from microcred.settings import get_settings
from microcred.skills.extraction.errors import ExtractionError

if TYPE_CHECKING:
    from microcred.skills.extraction import Mode

market_app = typer.Typer(
    help="Job-market demand analytics over ingested postings.", no_args_is_help=True
)

RegionOption = Annotated[str | None, typer.Option(help="Region, e.g. Bayern, Ohio, England")]
CountryOption = Annotated[str | None, typer.Option(help="ISO 3166 alpha-2 country code")]
OccupationOption = Annotated[str | None, typer.Option(help="Occupation URI")]
SinceOption = Annotated[str | None, typer.Option(help="First month, YYYY-MM")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _month(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(f"{value[:7]}-01")
    except ValueError:
        raise MarketError(f"{value!r} is not a month (use YYYY-MM).", field=field) from None


def _filters(
    region: str | None, country: str | None, occupation: str | None, since: str | None
) -> Filters:
    return Filters(
        region=region,
        country=country.upper() if country else None,
        occupation_uri=occupation,
        start=_month(since, "since"),
    )


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_plain(value), indent=2, ensure_ascii=False) + "\n")


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{cell:.3f}" if isinstance(cell, float) else str(cell) for cell in row))
    console.print(table)


@exits_cleanly
def extract(
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Text file ('-' for stdin)")
    ] = None,
    text: Annotated[str | None, typer.Option(help="Text given inline")] = None,
    mode: Annotated[str, typer.Option(help="gazetteer or hybrid (adds embeddings)")] = "gazetteer",
    min_confidence: Annotated[float, typer.Option(help="Drop matches below this")] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Extract skills (ESCO / O*NET URIs, span, label, confidence) from a text."""
    from microcred.skills.extraction.schemas import ExtractResponse
    from microcred.skills.extraction.service import embeddings_cache_dir, extract_skills
    from microcred.skills.extraction.text import decode_bytes

    if (file is None) == (text is None):
        raise ExtractionError("Give exactly one of --file or --text.", field="file")
    if file is not None:
        if str(file) == "-":
            content = decode_bytes(sys.stdin.buffer.read())
        elif not file.is_file():
            raise ExtractionError(f"No such file: {file}", field="file")
        else:
            content = decode_bytes(file.read_bytes())
    else:
        content = text or ""
    if mode not in ("gazetteer", "hybrid"):
        raise ExtractionError("mode must be gazetteer or hybrid.", field="mode")
    settings = get_settings()
    with unit_of_work() as session:
        result = extract_skills(
            session,
            content,
            cast("Mode", mode),
            embeddings_cache_dir(settings.data_dir),
        )
    response = ExtractResponse.of(result, min_confidence)
    if as_json:
        sys.stdout.write(response.model_dump_json(indent=2) + "\n")
        return
    _table(
        f"{len(response.uris)} skills ({response.mode}; language {response.language or '?'})",
        ["span", "skill", "confidence", "method", "uri"],
        [[m.text, m.label, m.confidence, m.method, m.uri] for m in response.skills],
    )


@market_app.command()
@exits_cleanly
def ingest(
    file: Annotated[
        Path, typer.Argument(help="Postings: .csv, .jsonl or .parquet (optionally .gz)")
    ],
    engine: Annotated[str, typer.Option(help="local or ray")] = "local",
    mode: Annotated[str, typer.Option(help="Extraction mode: gazetteer or hybrid")] = "gazetteer",
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk (and checkpoint)")] = 2000,
    workers: Annotated[int, typer.Option(help="Ray workers (CPUs) for --engine ray")] = 2,
    restart: Annotated[
        bool, typer.Option(help="Ignore the checkpoint (duplicates still skipped)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Ingest a postings file: resumable, duplicates removed, bad rows reported by line."""
    from microcred.market.pipeline import ENGINES
    from microcred.market.readers import detect_format
    from microcred.market.service import ingest as run_ingest

    if engine not in ENGINES:
        raise MarketError("engine must be local or ray.", field="engine")
    if mode not in ("gazetteer", "hybrid"):
        raise MarketError("mode must be gazetteer or hybrid.", field="mode")
    if not file.is_file():
        raise MarketError(f"No such file: {file}", field="file")
    detect_format(file)
    settings = get_settings()
    with (
        unit_of_work() as session,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as progress,
    ):
        task = progress.add_task(f"Ingesting {file.name}", total=None)
        report = run_ingest(
            session,
            settings,
            file,
            mode=cast("Mode", mode),
            engine=engine,
            chunk_size=chunk_size,
            workers=workers,
            restart=restart,
            on_progress=lambda rows, _line: progress.advance(task, rows),
        )
    if as_json:
        _print_json(report)
        return
    console.print(report.summary())
    for error in report.errors[:50]:
        console.print(f"  line {error.line} ({error.field}): {error.message}", highlight=False)
    if len(report.errors) > 50:
        console.print(f"  … and {report.bad_rows - 50} more bad rows (use --json for all)")


@market_app.command()
@exits_cleanly
def synth(
    out: Annotated[Path, typer.Argument(help="Output file: .csv, .jsonl or .parquet")],
    count: Annotated[int, typer.Option(help="Number of postings")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
) -> None:
    """Write a synthetic postings corpus assembled from real O*NET and SkillSpan text."""
    from microcred.market.synth import synthesise, write_postings

    if count < 1:
        raise MarketError("count must be at least 1.", field="count")
    written = write_postings(synthesise(get_settings().shared_dir, count, seed), out)
    console.print(f"Wrote {written} synthetic postings to {out}")


@market_app.command()
@exits_cleanly
def overview(as_json: JsonOption = False) -> None:
    """How many postings, skills, regions and months are stored."""
    from microcred.market.service import open_analytics

    with open_analytics(get_settings()) as analytics:
        summary = analytics.overview()
    if as_json:
        _print_json(summary)
        return
    console.print(
        f"{summary.postings} postings, {summary.skills} distinct skills, "
        f"{len(summary.regions)} regions, months {summary.first_month} to {summary.last_month}"
    )


@market_app.command()
@exits_cleanly
def top(
    region: RegionOption = None,
    country: CountryOption = None,
    occupation: OccupationOption = None,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Top skills by postings (for an occupation, a region, a period)."""
    from microcred.market.service import open_analytics

    with open_analytics(get_settings()) as analytics:
        skills = analytics.top_skills(_filters(region, country, occupation, since), limit)
    if as_json:
        _print_json(skills)
        return
    _table(
        "Top skills",
        ["skill", "postings", "share", "uri"],
        [[s.label, s.postings, s.share, s.skill_uri] for s in skills],
    )


@market_app.command()
@exits_cleanly
def trends(
    months: Annotated[int, typer.Option(min=1, max=24, help="Window length in months")] = 12,
    region: RegionOption = None,
    country: CountryOption = None,
    occupation: OccupationOption = None,
    limit: Annotated[int, typer.Option(min=1)] = 30,
    as_json: JsonOption = False,
) -> None:
    """Rising and falling skills: last N months vs the N before (binomial test, BH q < 0.05)."""
    from microcred.market.service import open_analytics

    with open_analytics(get_settings()) as analytics:
        tests = analytics.rising_and_falling(_filters(region, country, occupation, None), months)
    if as_json:
        _print_json(tests[:limit])
        return
    _table(
        "Rising and falling skills",
        ["skill", "direction", "before", "after", "change", "q"],
        [
            [t.label, t.direction, t.before, t.after, t.change, f"{t.q_value:.2g}"]
            for t in tests[:limit]
        ],
    )


@market_app.command()
@exits_cleanly
def gap(
    issuer: Annotated[str, typer.Argument(help="Issuer slug")],
    since: SinceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Curriculum gap report: in-demand regional skills no credential covers, and oversupply."""
    from microcred.market.service import gap_report, open_analytics

    with unit_of_work() as session, open_analytics(get_settings()) as analytics:
        report = gap_report(session, analytics, issuer, since=_month(since, "since"))
    if as_json:
        _print_json(report)
        return
    where = report.region or report.country or "all regions"
    console.print(
        f"{report.issuer_name}: {report.postings} postings in {where}; "
        f"{report.credentials} published credentials"
    )
    for note in report.notes:
        console.print(f"[yellow]{note}[/yellow]")
    _table(
        "In demand, not covered",
        ["skill", "postings", "share"],
        [[s.label, s.postings, s.share] for s in report.gaps[:25]],
    )
    _table(
        "Rarely demanded credentials",
        ["credential", "skills"],
        [[c.name, ", ".join(s.label for s in c.skills)] for c in report.oversupplied],
    )


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add ``market`` and ``skills extract`` (on the skills group, created if absent)."""
    app.add_typer(market_app, name="market")
    skills_group = next(
        (
            group.typer_instance
            for group in app.registered_groups
            if group.name == "skills" and group.typer_instance is not None
        ),
        None,
    )
    if skills_group is None:
        skills_group = typer.Typer(help="Skills taxonomy and extraction.", no_args_is_help=True)
        app.add_typer(skills_group, name="skills")
    skills_group.command("extract")(extract)

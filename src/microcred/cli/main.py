"""The ``microcred`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from microcred.cli.common import console, exits_cleanly, session_factory
from microcred.settings import get_settings

app = typer.Typer(
    help="microcred: an open micro-credential platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@app.command()
@exits_cleanly
def init(
    taxonomy: Annotated[bool, typer.Option(help="Also load the skills taxonomy")] = True,
) -> None:
    """Create or upgrade the database schema (Alembic) and load the skills taxonomy."""
    from microcred.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    console.print(f"Database ready: {_redact(settings.database_url)}")
    if taxonomy:
        from microcred.skills.loader import load_default_taxonomy

        factory = session_factory()
        with factory.begin() as session:
            summary = load_default_taxonomy(session, settings.shared_dir, progress=True)
        console.print(summary)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the web platform and the JSON API."""
    import uvicorn

    from microcred.runtime import freeze_startup_heap

    freeze_startup_heap()
    console.print(f"Serving microcred on http://{host}:{port}  (API docs: /api/v1/docs)")
    uvicorn.run(
        "microcred.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        log_level="info",
    )


@app.command()
@exits_cleanly
def demo(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data")] = 7,
    reset: Annotated[bool, typer.Option(help="Delete the existing database file first")] = False,
) -> None:
    """Build the deterministic demo data set (issuers, ~300 credentials, learners, employer)."""
    from microcred.db.migrate import upgrade
    from microcred.demo.builder import build_demo

    settings = get_settings()
    if reset and settings.is_sqlite:
        db_file = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    upgrade(settings.database_url)
    report = build_demo(session_factory(), settings, seed=seed)
    console.print(report, soft_wrap=True, highlight=False)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _register_capabilities() -> None:
    from microcred.cli import accounts as accounts_cli
    from microcred.cli import assessment as assessment_cli
    from microcred.cli import (
        catalogue,
        credentials,
        endorsements,
        lti,
        mail,
        market,
        notifications,
        obapi,
        pathways,
        skills,
        webhooks,
    )
    from microcred.cli import ledger as ledger_cli

    accounts_cli.register(app, import_app)
    catalogue.register(app, import_app)
    assessment_cli.register(app, import_app)
    skills.register(app, import_app)
    ledger_cli.register(app, import_app)
    market.register(app, import_app)
    credentials.register(app, import_app)
    pathways.register(app, import_app)
    webhooks.register(app, import_app)
    endorsements.register(app, import_app)
    notifications.register(app, import_app)
    mail.register(app, import_app)
    obapi.register(app, import_app)
    lti.register(app, import_app)


_register_capabilities()

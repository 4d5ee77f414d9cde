"""What every command shares: settings, a database session factory, error exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from microcred.db.engine import create_db_engine, make_session_factory, transaction
from microcred.errors import MicrocredError
from microcred.settings import get_settings

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USAGE = 2


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database, with every capability's credentials listeners
    loaded (pathways apply their revocation policy within a revocation's transaction, and award
    on issuance; notifications are written with what they tell of)."""
    import microcred.notifications.service
    import microcred.pathways.service  # noqa: F401  (registers its credentials listeners)

    return make_session_factory(create_db_engine(get_settings().database_url))


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction on a fresh engine, disposed of afterwards (a CLI run is short-lived)."""
    factory = session_factory()
    try:
        with transaction(factory) as session:
            yield session
    finally:
        bind = factory.kw.get("bind")
        if bind is not None:
            bind.dispose()


def exits_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a capability error into a one-line message and exit code 2, never a trace."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except MicrocredError as exc:
            where = f" ({exc.field})" if exc.field else ""
            err_console.print(f"[red]error{where}:[/red] {exc.message}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper

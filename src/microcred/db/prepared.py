"""Hot reads straight on the DB-API cursor, for queries run once per verified credential.

Going through ``Session.execute`` costs ~70 µs per query (statement cache key, execution
context, result set-up), several times the query itself on an indexed table. A
:class:`PreparedRead` compiles its Core statement once per dialect (so the SQL and paramstyle are
what SQLAlchemy would send), runs it on the session's own connection and transaction, and
converts the columns with their types' own result processors (SQLite's text dates and JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    """qmark / format paramstyles take a tuple in ``parameters`` order, named ones a dict."""
    parameters: tuple[tuple[str, Processor | None], ...]
    processors: tuple[Processor | None, ...]
    needs_processing: bool


class PreparedRead:
    """A SELECT run on the driver's cursor; parameters and columns converted by their types."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self.statement.compile(dialect=dialect)
            names = statement.positiontup if statement.positional else list(statement.binds)
            processors = tuple(
                column.type._cached_result_processor(dialect, None)
                for column in self.statement.selected_columns
            )
            compiled = _Compiled(
                statement.string,
                statement.positional,
                tuple(
                    (name, statement.binds[name].type._cached_bind_processor(dialect))
                    for name in names or ()
                ),
                processors,
                any(processor is not None for processor in processors),
            )
            self._compiled[key] = compiled
        return compiled

    def all(self, session: Session, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, in the session's transaction, after its autoflush (as ``execute`` would)."""
        if session.autoflush:
            session.flush()
        connection = session.connection()
        compiled = self._for(connection.dialect)
        values = [
            (name, parameters[name] if process is None else process(parameters[name]))
            for name, process in compiled.parameters
        ]
        arguments: Any = (
            tuple(value for _, value in values) if compiled.positional else dict(values)
        )
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not compiled.needs_processing:
            return [tuple(row) for row in rows]
        processors = compiled.processors
        return [
            tuple(
                value if processor is None or value is None else processor(value)
                for processor, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]

    def first(self, session: Session, parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.all(session, parameters)
        return rows[0] if rows else None

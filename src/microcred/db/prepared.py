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


class DriverReads:
    """A session's driver cursor for a burst of prepared reads (one verification): the
    autoflush and the connection look-up happen once, not per query (amid a verification each
    trip through the session's machinery cost ~20 µs). Close it before the session's
    transaction ends: the cursor belongs to that transaction's connection."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cursor: Any = None
        self._dialect: Dialect | None = None

    def run(self, read: PreparedRead, parameters: Mapping[str, Any]) -> list[Any]:
        if self._cursor is None:
            if self.session.autoflush:
                self.session.flush()
            connection = self.session.connection()
            self._dialect = connection.dialect
            self._cursor = connection.connection.cursor()
        assert self._dialect is not None
        compiled = read.compiled_for(self._dialect)
        values = [
            parameters[name] if process is None else process(parameters[name])
            for name, process in compiled.parameters
        ]
        arguments: Any = tuple(values)
        if not compiled.positional:
            pairs = zip(compiled.parameters, values, strict=True)
            arguments = {name: value for (name, _), value in pairs}
        self._cursor.execute(compiled.sql, arguments)
        rows: list[Any] = self._cursor.fetchall()
        if not compiled.needs_processing:
            return rows
        processors = compiled.processors
        return [
            tuple(
                value if processor is None or value is None else processor(value)
                for processor, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def __enter__(self) -> DriverReads:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class PreparedRead:
    """A SELECT run on the driver's cursor; parameters and columns converted by their types."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled_for(self, dialect: Dialect) -> _Compiled:
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

    def all(self, reads: Session | DriverReads, parameters: Mapping[str, Any]) -> list[Any]:
        """Every row (tuples), in the session's transaction after its autoflush, as ``execute``
        would run it; on ``reads``' cursor when given one."""
        if isinstance(reads, DriverReads):
            return reads.run(self, parameters)
        with DriverReads(reads) as burst:
            return burst.run(self, parameters)

    def first(self, reads: Session | DriverReads, parameters: Mapping[str, Any]) -> Any | None:
        rows = self.all(reads, parameters)
        return rows[0] if rows else None

"""Multi-row inserts for hot paths, with SQLAlchemy's own type conversion but not its per-row
execution machinery.

``session.execute(insert(table), rows)`` compiles (from cache), then builds a parameter dict per
row through generic code that costs about as much as SQLite's own work for a wide row. Here the
statement is compiled once per (table, columns, dialect), each column's bind processor (what turns
an enum, a datetime or a JSON value into what the driver takes) is looked up once, and the rows
go to the driver's ``executemany`` in the session's connection and transaction. The values stored
are exactly those the ORM would store; a test compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None
_Plan = tuple[str, tuple[tuple[str, Processor], ...], bool]
_PLANS: dict[tuple[int, tuple[str, ...], str, str], _Plan] = {}


def _plan(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Plan:
    key = (id(table), columns, dialect.name, dialect.driver)
    cached = _PLANS.get(key)
    if cached is not None:
        return cached
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    positional = bool(compiled.positiontup)
    order = tuple(compiled.positiontup or ()) if positional else columns
    if set(order) != set(columns):  # a column default the statement renders on its own
        raise ValueError(f"insert into {table.name} needs every column given: {columns}")
    processors = tuple((name, table.c[name].type._cached_bind_processor(dialect)) for name in order)
    plan = (str(compiled), processors, positional)
    _PLANS[key] = plan
    return plan


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, one per column to set) in one executemany."""
    if not rows:
        return
    connection = session.connection()
    sql, processors, positional = _plan(table, tuple(rows[0]), connection.dialect)
    names = tuple(name for name, _ in processors)
    converted = [(position, process) for position, (_, process) in enumerate(processors) if process]
    pick = itemgetter(*names)
    parameters: list[Any] = []
    for row in rows:
        values = list(pick(row)) if len(names) > 1 else [pick(row)]
        for position, process in converted:
            values[position] = process(values[position])
        parameters.append(tuple(values) if positional else dict(zip(names, values, strict=True)))
    connection.exec_driver_sql(sql, parameters)

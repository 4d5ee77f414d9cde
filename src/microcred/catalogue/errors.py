"""The catalogue's exception family."""

from __future__ import annotations

from dataclasses import dataclass

from microcred.errors import MicrocredError


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: its name (``skills[2]`` for list items) and what is wrong."""

    field: str
    message: str


class CatalogueError(MicrocredError):
    """Bad catalogue input or a refused catalogue operation."""


class InvalidFields(CatalogueError):
    """Every problem in one input (a definition, a profile): a form or import shows them all."""

    status_code = 422

    def __init__(self, problems: list[FieldProblem]):
        first = problems[0]
        message = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(message, field=first.field)
        self.problems = problems

    def as_dict(self) -> dict[str, object]:
        detail = super().as_dict()
        detail["problems"] = [{"field": p.field, "message": p.message} for p in self.problems]
        return detail


class DuplicateCode(CatalogueError):
    status_code = 409

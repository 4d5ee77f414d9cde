"""The root of every capability's exception family.

Each capability defines its own subclass (``CatalogueError``, ``CredentialError`` …) carrying a
user-facing message. The web layer maps them to 4xx JSON or a page, the CLI to exit code 2.
"""

from __future__ import annotations


class MicrocredError(Exception):
    """An error whose message can be shown to the user as it is."""

    status_code: int = 400

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, object]:
        detail: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.field:
            detail["field"] = self.field
        return detail


class NotFound(MicrocredError):
    status_code = 404


class PermissionDenied(MicrocredError):
    status_code = 403

"""The talent capability's exceptions: a bad query, or a searcher who may not search."""

from __future__ import annotations

from microcred.errors import MicrocredError, PermissionDenied


class TalentError(MicrocredError):
    """A talent search that cannot run as asked (no skills, an unknown skill, bad filters)."""

    status_code = 422


class TalentForbidden(TalentError, PermissionDenied):
    """Only employers (and platform administrators) search learners."""

    status_code = 403

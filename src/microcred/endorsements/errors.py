"""The endorsements capability's exceptions."""

from __future__ import annotations

from microcred.errors import MicrocredError, PermissionDenied


class EndorsementError(MicrocredError):
    """An endorsement that cannot be made, answered or withdrawn as asked."""

    status_code = 422


class EndorsementForbidden(EndorsementError, PermissionDenied):
    """Only an organisation's admins endorse for it, and answer or withdraw its endorsements."""

    status_code = 403

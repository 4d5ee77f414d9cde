"""The outcomes capability's exceptions."""

from __future__ import annotations

from microcred.errors import MicrocredError, PermissionDenied


class OutcomeError(MicrocredError):
    """An employment report or a KPI request that cannot be done as asked."""

    status_code = 422


class OutcomeForbidden(OutcomeError, PermissionDenied):
    """Only the issuer's staff (and platform administrators) read its outcome KPIs."""

    status_code = 403

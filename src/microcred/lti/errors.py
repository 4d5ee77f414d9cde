"""The LTI capability's exceptions."""

from __future__ import annotations

from microcred.errors import MicrocredError, PermissionDenied


class LtiError(MicrocredError):
    """A registration, launch or grade sync that cannot be done as asked."""

    status_code = 422


class LtiForbidden(LtiError, PermissionDenied):
    """Only an organisation's admins manage its platform registrations; its staff read them."""

    status_code = 403


class LaunchRejected(LtiError):
    """A login or launch request from a platform that fails a check; the message names it."""

    status_code = 400


class PlatformCallFailed(LtiError):
    """A call to the platform (JWKS, token, line items, results) failed; nothing was changed."""

    status_code = 502

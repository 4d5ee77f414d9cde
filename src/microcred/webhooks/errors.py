"""The webhooks capability's exceptions."""

from __future__ import annotations

from microcred.errors import MicrocredError, PermissionDenied


class WebhookError(MicrocredError):
    """A subscription or delivery request that cannot be done as asked."""

    status_code = 422


class WebhookForbidden(WebhookError, PermissionDenied):
    """Only an organisation's admins (and platform administrators) manage its webhooks."""

    status_code = 403

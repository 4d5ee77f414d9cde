"""OAuth 2.0 error responses, shared by the authorization servers of OpenID4VCI
(``wallet/oid4vci.py``) and of the Open Badges 3.0 API (``obapi/``)."""

from __future__ import annotations

from microcred.errors import MicrocredError


class OAuthError(MicrocredError):
    """An OAuth 2.0 error response (RFC 6749 §5.2, RFC 6750 §3, RFC 7591 §3.2.2):
    ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, *, status_code: int = 400):
        super().__init__(description, status_code=status_code)
        self.error = error

    def as_dict(self) -> dict[str, object]:
        return {"error": self.error, "error_description": self.message}

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Cache-Control": "no-store"}
        if self.status_code == 401:
            quoted = self.message.replace("\\", "").replace('"', "'")
            headers["WWW-Authenticate"] = (
                f'Bearer error="{self.error}", error_description="{quoted}"'
            )
        return headers

"""Session sign-in and CSRF protection.

Pages use a signed session cookie (SameSite=Lax) and a per-session synchroniser token that every
form posts back as ``csrf_token``. JSON calls authenticated by the session cookie must send the
same token in ``X-CSRF-Token``; calls with a bearer token need none (no ambient credential).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from microcred.accounts.models import User
from microcred.accounts.selfservice import session_fingerprint
from microcred.errors import MicrocredError

CSRF_SESSION_KEY = "csrf"
FINGERPRINT_KEY = "auth"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class CsrfError(MicrocredError):
    status_code = 403


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(CSRF_SESSION_KEY)
    if (
        not isinstance(expected, str)
        or not submitted
        or not hmac.compare_digest(expected, submitted)
    ):
        raise CsrfError(
            "The form's security token is missing or wrong. Reload the page and try again."
        )


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session (new CSRF token too) so a fixed session id cannot be reused; it
    holds the password's fingerprint, so a password change ends it (:func:`is_current`)."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session[FINGERPRINT_KEY] = session_fingerprint(user)
    request.session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def is_current(request: Request, user: User) -> bool:
    """Whether the session was started with the account's present password."""
    held = request.session.get(FINGERPRINT_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, session_fingerprint(user))


def sign_out(request: Request) -> None:
    request.session.clear()

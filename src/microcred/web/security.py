"""Session sign-in and CSRF protection.

Pages use a signed session cookie (SameSite=Lax) and a per-session synchroniser token that every
form posts back as ``csrf_token``. JSON calls authenticated by the session cookie must send the
same token in ``X-CSRF-Token``; calls with a bearer token need none (no ambient credential).
"""

from __future__ import annotations

import hmac
import secrets
import time

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


SECOND_FACTOR_KEY = "second_factor"
SECOND_FACTOR_WINDOW_SECONDS = 5 * 60
"""How long after the password the code may be typed."""


def begin_second_factor(request: Request, user: User, next_path: str) -> None:
    """The password was right and the account uses a second factor: a fresh session that is not
    signed in but remembers, for a few minutes, whose code to ask for and where to go next."""
    request.session.clear()
    request.session[SECOND_FACTOR_KEY] = {
        "user_id": user.id,
        "auth": session_fingerprint(user),
        "next": next_path,
        "at": int(time.time()),
    }
    request.session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def pending_second_factor(request: Request) -> tuple[str, str, str] | None:
    """``(user_id, password fingerprint, next path)`` of a sign-in waiting for its code; None
    when there is none or it is older than :data:`SECOND_FACTOR_WINDOW_SECONDS`."""
    held = request.session.get(SECOND_FACTOR_KEY)
    if not isinstance(held, dict):
        return None
    at = held.get("at")
    if not isinstance(at, int) or time.time() - at > SECOND_FACTOR_WINDOW_SECONDS:
        request.session.pop(SECOND_FACTOR_KEY, None)
        return None
    user_id, fingerprint, next_path = held.get("user_id"), held.get("auth"), held.get("next")
    if not (isinstance(user_id, str) and isinstance(fingerprint, str)):
        return None
    return user_id, fingerprint, next_path if isinstance(next_path, str) else "/"


def is_current(request: Request, user: User) -> bool:
    """Whether the session was started with the account's present password."""
    held = request.session.get(FINGERPRINT_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, session_fingerprint(user))


def sign_out(request: Request) -> None:
    request.session.clear()

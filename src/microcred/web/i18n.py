"""Choosing a request's language: ``?lang=`` (remembered in a cookie), the cookie, the signed-in
user's saved preference, ``Accept-Language``, then English (docs/i18n.md)."""

from __future__ import annotations

from typing import Literal

from babel import negotiate_locale
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microcred.i18n import DEFAULT_LOCALE, LOCALES, set_locale, supported

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
LOCALISED_TYPES = ("text/html", "application/pdf")
"""Responses whose language the request chooses (pages, the PDF certificate)."""
Source = Literal["query", "cookie", "header", "default"]


def from_accept_language(header: str | None) -> str | None:
    """The best of our locales for an ``Accept-Language`` header (q-values honoured)."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    preferred = [tag.replace("-", "_") for _, _, tag in sorted(weighted)]
    chosen = negotiate_locale(preferred, list(LOCALES), sep="_")
    if chosen is None:  # "de-AT" alone: negotiate_locale matches only exact or aliased tags
        chosen = next((found for tag in preferred if (found := supported(tag))), None)
    return chosen


def choose(
    query: str | None, cookie: str | None, accept_language: str | None
) -> tuple[str, Source]:
    """The locale a request asks for before we know who is signed in, and where it came from."""
    if found := supported(query):
        return found, "query"
    if found := supported(cookie):
        return found, "cookie"
    if found := from_accept_language(accept_language):
        return found, "header"
    return DEFAULT_LOCALE, "default"


def request_locale(request: Request, saved: str | None) -> str:
    """The request's locale once the user is known: an explicit choice (query or cookie) wins
    over ``saved``, the account's preference, which wins over the browser's header."""
    locale: str = getattr(request.state, "locale", DEFAULT_LOCALE)
    source: Source = getattr(request.state, "locale_source", "default")
    if source not in ("query", "cookie") and (preference := supported(saved)):
        return preference
    return locale


class LocaleMiddleware:
    """Sets the locale of each HTTP request (ContextVar and ``request.state.locale``),
    remembers a ``?lang=`` choice in the ``lang`` cookie for a year, and marks pages as varying
    with the header and cookie that choose their language (for shared caches)."""

    def __init__(self, app: ASGIApp, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b"")).get("lang")
        cookie = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        locale, source = choose(query, cookie, headers.get("accept-language"))
        scope.setdefault("state", {}).update(locale=locale, locale_source=source)
        set_locale(locale)

        async def localised_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = MutableHeaders(scope=message)
                if sent.get("content-type", "").startswith(LOCALISED_TYPES):
                    varies = {part.strip().lower() for part in sent.get("vary", "").split(",")}
                    for header in ("Accept-Language", "Cookie"):
                        if header.lower() not in varies:
                            sent.add_vary_header(header)
                if source == "query":
                    sent.append(
                        "set-cookie",
                        f"{COOKIE}={locale}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax"
                        + ("; Secure" if self.secure else ""),
                    )
            await send(message)

        await self.app(scope, receive, localised_send)

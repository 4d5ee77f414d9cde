"""Translations (gettext catalogs under ``microcred/locale``) and the locale of the work at hand.

The locale lives in a ContextVar: the web layer sets it per request, mail and certificate code
per recipient or document (``using_locale``), so the one shared Jinja environment and these
functions translate into whichever language the current task needs, thread by thread. A message
without a translation falls back to its English msgid.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date as _babel_format_date
from babel.support import NullTranslations, Translations
from jinja2 import Environment

DEFAULT_LOCALE = "en"
LOCALES: tuple[str, ...] = ("en", "de", "fr", "es")
"""The languages with a catalog, English (the msgids) first."""
LOCALE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
"""Each language in its own words, as a language switcher lists it."""
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("microcred_locale", default=DEFAULT_LOCALE)


def supported(tag: str | None) -> str | None:
    """Our locale for a language tag (``de``, ``de-AT``, ``fr_CA``), or None."""
    if not tag:
        return None
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in LOCALES else None


@cache
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """Set the locale of the current context (a request's task or thread)."""
    _current.set(supported(locale) or DEFAULT_LOCALE)


@contextmanager
def using_locale(locale: str | None) -> Iterator[str]:
    """Translate into ``locale`` (English when unsupported) within the block."""
    token = _current.set(supported(locale) or DEFAULT_LOCALE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(translations(current_locale()).pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return str(translations(current_locale()).npgettext(context, singular, plural, n))


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for extraction, translated later where it is shown (``_(label)``)."""
    return message


def format_date(value: date | datetime | str | None, locale: str | None = None) -> str:
    """A date written out for the locale ("24 November 2026", "24. November 2026"); an ISO
    string is parsed first, and text that is not a date comes back unchanged."""
    if value is None or value == "":
        return ""
    moment: Any = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return str(_babel_format_date(moment, format="long", locale=locale or current_locale()))


def install(environment: Environment) -> None:
    """Give a Jinja environment ``{% trans %}``, ``_()`` and ``format_date`` that translate into
    the current context's locale (never one fixed catalog: the environment is shared)."""
    environment.add_extension("jinja2.ext.i18n")
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    environment.globals.update(current_locale=current_locale, locale_names=LOCALE_NAMES)
    environment.filters["format_date"] = format_date


__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_NAMES",
    "N_",
    "current_locale",
    "format_date",
    "gettext",
    "install",
    "ngettext",
    "npgettext",
    "pgettext",
    "set_locale",
    "supported",
    "using_locale",
]

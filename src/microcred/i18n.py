"""Translations (gettext catalogs under ``microcred/locale``) and the locale of the work at hand.

The locale lives in a ContextVar: the web layer sets it per request, mail and certificate code
per recipient or document (``using_locale``), so the one shared Jinja environment and these
functions translate into whichever language the current task needs, thread by thread. A message
without a translation falls back to its English msgid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_decimal
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


class Text(str):
    """English text that remembers how it was made, so that it can be shown in another language
    later (:func:`translate`). Everywhere else — JSON, the CLI, logs, comparisons — it is exactly
    the English string, so code that builds a message once for the API and for a page (a
    verification reason) need not choose a language."""

    def translated(self) -> str:
        return str.__str__(self)

    def __copy__(self) -> Text:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Text:
        return self


def _english(message: str, params: Mapping[str, object]) -> str:
    return message % {name: str(value) for name, value in params.items()} if params else message


class Message(Text):
    """A marked message with ``%(name)s`` parameters, made by :func:`L_` or :func:`L_plural`.
    Parameters that are themselves :class:`Text` are translated too; other values (what the
    credential says, a URL, a date) are kept as they are."""

    msgid: str
    plural: str | None
    number: int | None
    params: Mapping[str, object]

    def __new__(
        cls,
        msgid: str,
        params: Mapping[str, object],
        plural: str | None = None,
        count: int | None = None,
    ) -> Message:
        chosen = plural if plural is not None and count != 1 else msgid
        made = super().__new__(cls, _english(chosen, params))
        made.msgid, made.plural, made.number, made.params = msgid, plural, count, dict(params)
        return made

    def translated(self) -> str:
        catalog = translations(current_locale())
        if self.plural is not None:
            text = catalog.ngettext(self.msgid, self.plural, self.number or 0)
        else:
            text = catalog.gettext(self.msgid)
        values = {name: translate(value) for name, value in self.params.items()}
        return text % values if self.params else text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.msgid, self.params, self.plural, self.number))


class Joined(Text):
    """Texts joined by a separator (``"; "``), each translated on its own."""

    parts: tuple[object, ...]
    separator: str

    def __new__(cls, separator: str, parts: Iterable[object]) -> Joined:
        items = tuple(parts)
        made = super().__new__(cls, separator.join(str(part) for part in items))
        made.parts, made.separator = items, separator
        return made

    def translated(self) -> str:
        return self.separator.join(translate(part) for part in self.parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Joined, (self.separator, self.parts))


class Day(Text):
    """A day: ``24 November 2026`` in English (as mails always wrote it), written out for the
    reader's other language where it is shown (:func:`format_date`)."""

    day: date

    def __new__(cls, day: date) -> Day:
        made = super().__new__(cls, f"{day:%d %B %Y}")
        made.day = day
        return made

    def translated(self) -> str:
        return str.__str__(self) if current_locale() == DEFAULT_LOCALE else format_date(self.day)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Day, (self.day,))


class Number(Text):
    """A whole number: ``1,234`` in English, grouped for the reader's other language where it is
    shown (``1.234``, ``1\u202f234``)."""

    value: int

    def __new__(cls, value: int) -> Number:
        made = super().__new__(cls, f"{value:,}")
        made.value = value
        return made

    def translated(self) -> str:
        locale = current_locale()
        if locale == DEFAULT_LOCALE:
            return str.__str__(self)
        return str(format_decimal(self.value, locale=locale))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Number, (self.value,))


def L_(message: str, **params: object) -> Message:
    """A message kept lazy: English where it is read as a string, in the reader's language
    where it is shown through :func:`translate` (a page, a mail). Extracted like ``_()``."""
    return Message(message, params)


def L_plural(singular: str, plural: str, count: int, /, **params: object) -> Message:
    """:func:`L_` with a plural form chosen by ``count`` (``ngettext``), which is also the
    ``%(count)s`` parameter."""
    return Message(singular, {"count": count, **params}, plural, count)


def to_json(value: object) -> Any:
    """A text as JSON for storage: a :class:`Message` or :class:`Joined` as its message id,
    plural and parameters (nested), anything else as its string."""
    if isinstance(value, Message):
        stored: dict[str, Any] = {
            "id": value.msgid,
            "params": {name: to_json(item) for name, item in value.params.items()},
        }
        if value.plural is not None:
            stored.update(plural=value.plural, n=value.number)
        return stored
    if isinstance(value, Joined):
        return {"join": value.separator, "parts": [to_json(part) for part in value.parts]}
    if isinstance(value, Day):
        return {"day": value.day.isoformat()}
    if isinstance(value, Number):
        return {"number": value.value}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return "" if value is None else str(value)


def from_json(stored: Any) -> str:
    """The text :func:`to_json` stored (English as a ``str``, translatable by
    :func:`translate`); an unexpected shape comes back as its string."""
    if isinstance(stored, dict) and isinstance(stored.get("id"), str):
        found = stored.get("params")
        params: dict[str, Any] = found if isinstance(found, dict) else {}
        values = {str(name): _value_from_json(item) for name, item in params.items()}
        plural, count = stored.get("plural"), stored.get("n")
        if isinstance(plural, str) and isinstance(count, int):
            return Message(stored["id"], values, plural, count)
        return Message(stored["id"], values)
    if isinstance(stored, dict) and isinstance(stored.get("day"), str):
        try:
            return Day(datetime.fromisoformat(stored["day"]))
        except ValueError:
            return str(stored["day"])
    if isinstance(stored, dict) and isinstance(stored.get("number"), int):
        return Number(stored["number"])
    if isinstance(stored, dict) and isinstance(stored.get("parts"), list):
        return Joined(str(stored.get("join", "")), [from_json(p) for p in stored["parts"]])
    return "" if stored is None else str(stored)


def _value_from_json(stored: Any) -> object:
    """A parameter :func:`to_json` stored: numbers stay numbers (``%(count)s``)."""
    if isinstance(stored, int | float) and not isinstance(stored, bool):
        return stored
    return from_json(stored)


def translate(value: object) -> str:
    """``value`` in the current locale when it is a :class:`Text`, else as it is (``str``)."""
    if isinstance(value, Text):
        return value.translated()
    return "" if value is None else str(value)


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
    environment.globals.update(
        current_locale=current_locale, locale_names=LOCALE_NAMES, translate=translate
    )
    environment.filters["format_date"] = format_date
    environment.filters["translate"] = translate


__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_NAMES",
    "L_",
    "N_",
    "Day",
    "Joined",
    "L_plural",
    "Message",
    "Number",
    "Text",
    "current_locale",
    "format_date",
    "from_json",
    "gettext",
    "install",
    "ngettext",
    "npgettext",
    "pgettext",
    "set_locale",
    "supported",
    "to_json",
    "translate",
    "using_locale",
]

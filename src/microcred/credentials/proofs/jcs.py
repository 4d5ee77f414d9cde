"""RFC 8785 JSON Canonicalization Scheme, for ``eddsa-jcs-2022`` and ``@json`` literals.

Numbers are written as ECMAScript ``Number.prototype.toString`` does, object keys are sorted
by their UTF-16 code units, strings are escaped as ``JSON.stringify`` escapes them.
"""

from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring
from typing import Any

import orjson

from microcred.credentials.errors import CredentialError

_MAX_SAFE_INTEGER = 2**53
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def serialize_number(value: float | int) -> str:
    """ECMAScript's shortest round-trip form of an IEEE 754 double."""
    if isinstance(value, int) and abs(value) < _MAX_SAFE_INTEGER:
        return str(value)
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise CredentialError("JSON numbers must be finite (NaN and Infinity have no JCS form)")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    text = repr(abs(number))
    mantissa, _, exponent_text = text.partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    integer_part, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    all_digits = integer_part + fraction
    stripped = all_digits.lstrip("0")
    point = len(integer_part) + exponent - (len(all_digits) - len(stripped))
    digits = stripped.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        body = digits + "0" * (point - count)
    elif 0 < point <= 21:
        body = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        body = "0." + "0" * -point + digits
    else:
        shown = point - 1
        exponent_sign = "+" if shown >= 0 else "-"
        head = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{head}e{exponent_sign}{abs(shown)}"
    return sign + body


def _serialize_string(value: str) -> str:
    """JSON.stringify's escaping: the C encoder's ``ensure_ascii=False`` form is the same."""
    serialized: str = encode_basestring(value)
    return serialized


def _sorted_keys(value: dict[str, Any]) -> list[str]:
    """Keys in UTF-16 code unit order (the same as code point order for ASCII keys)."""
    if all(key.isascii() for key in value):
        return sorted(value)
    return sorted(value, key=_utf16_key)


def _serialize(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_serialize_string(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int | float):
        out.append(serialize_number(value))
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise CredentialError("JSON object keys must be strings")
        out.append("{")
        for position, key in enumerate(_sorted_keys(value)):
            if position:
                out.append(",")
            out.append(_serialize_string(key))
            out.append(":")
            _serialize(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _serialize(item, out)
        out.append("]")
    else:
        raise CredentialError(f"Cannot canonicalise a {type(value).__name__} as JSON")


class _NotCanonical(Exception):
    """Raised while re-reading encoder output that JCS would write differently."""


def _refuse_float(token: str) -> float:
    raise _NotCanonical(token)


def _check_int(token: str) -> int:
    number = int(token)
    if abs(number) >= _MAX_SAFE_INTEGER:
        raise _NotCanonical(token)
    return number


_CHECKING_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_int=_check_int)
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _fast_canonical_text(value: Any) -> str | None:
    """The C JSON encoder's output when it provably equals JCS, else None.

    ``json.dumps(sort_keys=True, ensure_ascii=False)`` escapes strings as JCS does; it differs
    only for floats (Python's repr), integers beyond 2**53, keys whose code point order differs
    from UTF-16 order (only possible with non-BMP characters) and non-string keys. Parsing the
    output back with hooks detects each case at C speed.
    """
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError):
        return None
    if not text.isascii() and _NON_BMP.search(text):
        return None
    try:
        loaded = _CHECKING_DECODER.decode(text)
    except _NotCanonical:
        return None
    return text if loaded == value else None


_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_NON_BMP_LEAD = re.compile(b"[\xf0-\xf4]")


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _orjson_canonical(value: Any) -> bytes | None:
    """orjson's sorted compact output when it provably equals JCS, else None (~10x the C
    encoder's speed; most of a JCS credential proof was this).

    orjson escapes strings exactly as ``json.dumps(ensure_ascii=False)`` and JCS do (tested on
    every code point class), sorts keys by code point and refuses integers beyond 2**53
    (``OPT_STRICT_INTEGER``), lone surrogates and non-string keys. What it writes differently is
    found in its output: floats (``.``/``e`` outside strings: Python's shortest repr is not
    ECMAScript's), NaN and infinities (written as ``null``) and non-BMP characters (whose
    UTF-16 order can differ). Outside strings is exact when no string holds an escaped quote.
    """
    if type(value) is not dict:
        return None
    try:
        data = orjson.dumps(value, default=_refuse, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    if b'\\"' in data or (not data.isascii() and _NON_BMP_LEAD.search(data)):
        return None
    outside = b"".join(data.split(b'"')[0::2])
    if b"." in outside or b"E" in outside or b"null" in outside:
        return None
    if b"e" in outside.replace(b"true", b"").replace(b"false", b""):
        return None
    return data


def has_fast_form(value: Any) -> bool:
    """Whether orjson writes this object exactly as JCS does (see :func:`_orjson_canonical`)."""
    return _orjson_canonical(value) is not None


def canonicalize_with_checked_parts(value: dict[str, Any], skeleton: dict[str, Any]) -> bytes:
    """:func:`canonicalize` of ``value`` where some nested objects were already found to have a
    fast form (:func:`has_fast_form`) and ``skeleton`` is ``value`` with those objects blanked.

    Only the skeleton is checked, so a credential built from a template pays for checking what
    differs per credential, not its shared issuer and achievement. orjson sorts every object on
    its own and the checks hold per part, so the whole is canonical when every part is.
    """
    if _orjson_canonical(skeleton) is None:
        return canonicalize(value)
    try:
        return orjson.dumps(value, default=_refuse, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return canonicalize(value)


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    quick = _orjson_canonical(value)
    if quick is not None:
        return quick
    fast = _fast_canonical_text(value)
    if fast is not None:
        try:
            return fast.encode("utf-8")
        except UnicodeEncodeError:
            pass
    out: list[str] = []
    try:
        _serialize(value, out)
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as error:
        raise CredentialError("JSON strings must not contain lone surrogates") from error
    except RecursionError as error:
        raise CredentialError("JSON value is nested too deeply") from error

"""Checking changes to an issuer's OB 3.0 Profile fields (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from microcred.catalogue.errors import FieldProblem, InvalidFields
from microcred.catalogue.validation import URL_RE

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")
LIMITS = {
    "url": 500, "email": 254, "phone": 40, "description": 5000, "image_url": 500,
    "street_address": 200, "locality": 120, "postal_code": 20, "official": 200,
    "parent_organisation": 80,
}  # fmt: skip


def parse_profile_changes(changes: Mapping[str, Any]) -> dict[str, str | None]:
    """Stripped values per field (``None`` clears); every problem named by field."""
    problems: list[FieldProblem] = []
    values: dict[str, str | None] = {}
    for name, raw in changes.items():
        if name not in LIMITS:
            problems.append(FieldProblem(name, "is not an issuer profile field."))
            continue
        if raw is not None and not isinstance(raw, str):
            problems.append(FieldProblem(name, "must be text."))
            continue
        value = (raw or "").strip() or None
        if value is not None and len(value) > LIMITS[name]:
            problems.append(FieldProblem(name, f"must be at most {LIMITS[name]} characters."))
        elif value is not None and name in ("url", "image_url") and not URL_RE.match(value):
            problems.append(FieldProblem(name, f"'{value}' is not an http(s) URL."))
        elif value is not None and name == "email" and not EMAIL_RE.match(value):
            problems.append(FieldProblem(name, f"'{value}' is not an e-mail address."))
        elif value is not None and name == "phone" and not PHONE_RE.match(value):
            problems.append(FieldProblem(name, f"'{value}' is not a phone number."))
        else:
            values[name] = value
    if problems:
        raise InvalidFields(problems)
    return values

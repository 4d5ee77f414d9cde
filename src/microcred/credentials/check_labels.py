"""A verification report's fixed words in the reader's language: each check's name and status.

The reasons stay as the checks wrote them (English, often quoting the credential), see
docs/i18n.md. Names are translated where they are read, so that a report is still built once
and its JSON (the API) keeps the English names.
"""

from __future__ import annotations

import re

from microcred.credentials import verify
from microcred.i18n import gettext, pgettext
from microcred.ledger.receipts import CHECK_NAME as LEDGER

_EMBEDDED = re.compile(r"credential (\d+)(?: · (.+))?")


def _names() -> dict[str, str]:
    return {
        verify.PARSE: pgettext("verification check", "parse"),
        verify.CONTEXT: pgettext("verification check", "context"),
        verify.SCHEMA: pgettext("verification check", "schema"),
        verify.PROOF: pgettext("verification check", "proof"),
        verify.ISSUER_KEY: pgettext("verification check", "issuer key"),
        verify.VALIDITY: pgettext("verification check", "validity"),
        verify.STATUS: pgettext("verification check", "status"),
        verify.ISSUER: pgettext("verification check", "issuer"),
        verify.HOLDER_PROOF: pgettext("verification check", "holder proof"),
        verify.CHALLENGE: pgettext("verification check", "challenge"),
        verify.DOMAIN: pgettext("verification check", "domain"),
        verify.FRESHNESS: pgettext("verification check", "freshness"),
        verify.CREDENTIALS: pgettext("verification check", "credentials"),
        verify.ENDORSEMENTS: pgettext("verification check", "endorsements"),
        LEDGER: pgettext("verification check", "ledger"),
    }


def check_name(name: str) -> str:
    """``proof`` → ``Beweis``; a presentation's ``credential 2 · proof`` is translated part by
    part; a name we do not know (an endorsement's label) is kept."""
    if embedded := _EMBEDDED.fullmatch(name):
        label = gettext("credential %(number)s") % {"number": embedded.group(1)}
        return f"{label} · {check_name(embedded.group(2))}" if embedded.group(2) else label
    return _names().get(name, name)


def check_status(status: str) -> str:
    words = {
        "pass": pgettext("verification status", "pass"),
        "fail": pgettext("verification status", "fail"),
        "warning": pgettext("verification status", "warning"),
    }
    return words.get(status, status)

"""OB 3.0 ``EndorsementCredential`` documents, and finding the ones a credential embeds.

Pure functions over plain data: the service signs what :func:`build_endorsement` returns with
the endorser's key; verification and the public pages read :func:`embedded_endorsements`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microcred.credentials.documents import format_datetime, is_uri
from microcred.credentials.jsonld.loader import OB_V3, VC_V2
from microcred.endorsements.errors import EndorsementError

ENDORSEMENT_TYPE = "EndorsementCredential"
ENDORSEMENT_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)
SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
MAX_COMMENT = 5000
"""Characters of Markdown in an endorsement comment."""


def checked_text(value: str, field: str, limit: int, empty: str) -> str:
    """``value`` stripped; ``empty`` is the message when nothing is left."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise EndorsementError(empty, field=field)
    if len(cleaned) > limit:
        raise EndorsementError(f"The {field} is over {limit} characters.", field=field)
    return cleaned


def check_comment(comment: str) -> str:
    return checked_text(comment, "comment", MAX_COMMENT, "Say what you endorse: it is empty.")


def build_endorsement(
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    subject_id: str,
    comment: str,
    name: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsigned ``EndorsementCredential`` (valid against the OB 3.0 endorsement schema):
    ``issuer`` endorses what ``subject_id`` names (an achievement, a profile), saying ``comment``
    (Markdown)."""
    for value, field in ((credential_id, "id"), (subject_id, "credentialSubject.id")):
        if not is_uri(value):
            raise EndorsementError(f"{field} must be a URI", field=field)
    if not is_uri(issuer.get("id")):
        raise EndorsementError("issuer.id must be a URI", field="issuer.id")
    if not str(issuer.get("name") or "").strip():
        raise EndorsementError("The endorser's profile needs a name", field="issuer.name")
    if valid_until is not None and valid_until <= valid_from:
        raise EndorsementError("validUntil must be after validFrom", field="valid_until")
    document: dict[str, Any] = {
        "@context": [VC_V2, OB_V3],
        "id": credential_id,
        "type": ["VerifiableCredential", ENDORSEMENT_TYPE],
        "name": name,
        "issuer": {**issuer, "type": ["Profile"]},
        "validFrom": format_datetime(valid_from),
        "credentialSubject": {
            "id": subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": check_comment(comment),
        },
        "credentialSchema": [{"id": ENDORSEMENT_SCHEMA_URL, "type": SCHEMA_TYPE}],
    }
    if valid_until is not None:
        document["validUntil"] = format_datetime(valid_until)
    if credential_status is not None:
        document["credentialStatus"] = dict(credential_status)
    return document


def is_endorsement(document: Mapping[str, Any]) -> bool:
    types = document.get("type")
    return ENDORSEMENT_TYPE in (types if isinstance(types, list) else [types])


@dataclass(frozen=True)
class Embedded:
    """An endorsement credential found in a credential: where, and about whom it must be."""

    where: str
    """``achievement``, ``issuer``, ``achievement creator`` or ``credential``."""
    expected_subject: str | None
    """The id of the object that carries it (its subject should be that)."""
    document: Any


def _carried(where: str, holder: Any) -> Iterator[Embedded]:
    if not isinstance(holder, Mapping) or "endorsement" not in holder:
        return
    found = holder["endorsement"]
    expected = holder.get("id") if isinstance(holder.get("id"), str) else None
    for item in found if isinstance(found, list) else [found]:
        yield Embedded(where, expected, item)


def embedded_endorsements(credential: Mapping[str, Any]) -> list[Embedded]:
    """Every ``endorsement`` a credential carries: its own, its issuer's, its achievement's and
    the achievement creator's (where OB 3.0 puts them). Cheap when there are none: a handful
    of dictionary look-ups, nothing parsed."""
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    creator = achievement.get("creator") if isinstance(achievement, Mapping) else None
    found = [*_carried("credential", credential), *_carried("issuer", credential.get("issuer"))]
    found += [*_carried("achievement", achievement), *_carried("achievement creator", creator)]
    return found


def endorsement_label(document: Any) -> str:
    """How a report names one endorsement: its endorser's name (or id) and its own id."""
    if not isinstance(document, Mapping):
        return "an endorsement that is not an object"
    issuer = document.get("issuer")
    by = issuer.get("name") or issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return f"{document.get('id') or 'an endorsement without id'} by {by or 'an unnamed endorser'}"

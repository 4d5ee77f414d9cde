"""1EdTech CLR 2.0 ``ClrCredential`` documents: a stacked qualification, or a transfer transcript.

Pure builders over plain data; the service signs the result with the issuing organisation's key.
The component credentials go in ``credentialSubject.verifiableCredential`` as they were issued
(proofs included, so each still verifies on its own) and the relationships between achievements
in ``credentialSubject.association``: every component ``isChildOf`` the qualification, and
consecutive steps of an ordered requirement ``precedes`` one another.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microcred.credentials.documents import format_datetime

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)
ASSOCIATION_TYPES = (
    "exactMatchOf", "isChildOf", "isParentOf", "isPartOf", "isPeerOf", "isRelatedTo",
    "precedes", "replacedBy",
)  # fmt: skip


@dataclass(frozen=True)
class Association:
    kind: str
    source_id: str
    target_id: str

    def as_json(self) -> dict[str, str]:
        return {
            "type": "Association",
            "associationType": self.kind,
            "sourceId": self.source_id,
            "targetId": self.target_id,
        }


def achievement_id_of(credential: Mapping[str, Any]) -> str | None:
    """The ``credentialSubject.achievement.id`` of an OB 3.0 credential."""
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if not isinstance(subject, Mapping):
        return None
    achievement = subject.get("achievement")
    if isinstance(achievement, Mapping) and isinstance(achievement.get("id"), str):
        return str(achievement["id"])
    return None


def is_ob3_credential(credential: Mapping[str, Any]) -> bool:
    types = credential.get("type")
    names = types if isinstance(types, list) else [types]
    return bool({"OpenBadgeCredential", "AchievementCredential"} & {str(n) for n in names})


def build_clr(
    *,
    credential_id: str,
    name: str,
    description: str,
    issuer: Mapping[str, Any],
    subject_identifier: Mapping[str, Any] | None,
    subject_id: str | None,
    components: Sequence[Mapping[str, Any]],
    achievements: Sequence[Mapping[str, Any]] = (),
    associations: Sequence[Association] = (),
    valid_from: datetime,
    awarded_date: datetime | None = None,
) -> dict[str, Any]:
    """An unsigned ClrCredential (valid against the CLR 2.0 JSON schema); an award's gets its
    status entry from :func:`with_credential_status`."""
    if not components:
        raise ValueError("a CLR holds at least one credential")
    subject: dict[str, Any] = {"type": ["ClrSubject"]}
    if subject_id:
        subject["id"] = subject_id
    if subject_identifier:
        subject["identifier"] = [dict(subject_identifier)]
    subject["verifiableCredential"] = [dict(component) for component in components]
    if achievements:
        subject["achievement"] = [dict(achievement) for achievement in achievements]
    if associations:
        subject["association"] = [association.as_json() for association in associations]
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": dict(issuer),
        "name": name,
        "description": description,
        "validFrom": format_datetime(valid_from),
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if awarded_date is not None:
        document["awardedDate"] = format_datetime(awarded_date)
    return document


def with_credential_status(
    document: Mapping[str, Any], credential_status: Mapping[str, Any]
) -> dict[str, Any]:
    """The CLR unsigned (no ``proof``) with ``credential_status`` as its Bitstring Status List
    entry, so that it can be revoked on its own: a new one, or one awarded without an entry."""
    unsigned = {name: value for name, value in document.items() if name != "proof"}
    unsigned["credentialStatus"] = dict(credential_status)
    return unsigned


def stack_associations(
    qualification_id: str, component_ids: Sequence[str], ordered: Sequence[Sequence[str]] = ()
) -> list[Association]:
    """Components are children of the qualification; ordered steps precede one another."""
    made = [Association("isChildOf", component, qualification_id) for component in component_ids]
    for steps in ordered:
        made.extend(
            Association("precedes", before, after) for before, after in itertools.pairwise(steps)
        )
    return made

"""Open Badges 3.0 ``OpenBadgeCredential`` documents (VC Data Model 2.0), built from plain data.

The builder checks what a verifier will rely on (ids are URIs, dates are ordered, the recipient is
identified) and raises :class:`CredentialError` naming the field otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import OB_V3, VC_V2
from microcred.credentials.proofs import jcs

OB_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
OB_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
_URI_SCHEMES = ("http://", "https://", "did:", "urn:")


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_URI_SCHEMES) and " " not in value


@lru_cache(maxsize=1024)
def format_datetime(moment: datetime) -> str:
    """UTC with a Z suffix and whole seconds, the form every verifier parses (memoised: an
    issuance formats the same instant several times)."""
    if moment.tzinfo is None:
        raise CredentialError("Dates must carry a time zone", field="validFrom")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_datetime(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise CredentialError(f"{field} must be a date-time string", field=field)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise CredentialError(
            f"{field} is not an ISO 8601 date-time: {value!r}", field=field
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def hashed_email_identity(email: str, salt: str | None = None) -> dict[str, Any]:
    """An OB 3.0 ``IdentityObject``: ``sha256$`` + hex SHA-256 of (lower-cased email + salt)."""
    normalised = _normalise_email(email)
    if normalised.count("@") != 1 or normalised.startswith("@") or normalised.endswith("@"):
        raise CredentialError(f"{email!r} is not an email address", field="recipient.email")
    salt = salt if salt is not None else os.urandom(16).hex()
    digest = hashlib.sha256((normalised + salt).encode("utf-8")).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def identity_matches(identity: Mapping[str, Any], value: str) -> bool:
    """Whether a (hashed or plain) IdentityObject identifies ``value``."""
    stored = str(identity.get("identityHash", ""))
    if not identity.get("hashed"):
        return hmac.compare_digest(stored.strip().lower(), _normalise_email(value))
    algorithm, _, expected = stored.partition("$")
    if algorithm not in {"sha256", "md5"}:
        return False
    salt = str(identity.get("salt") or "")
    for candidate in {value, value.strip(), _normalise_email(value)}:
        digest = hashlib.new(algorithm, (candidate + salt).encode("utf-8")).hexdigest()
        if hmac.compare_digest(digest, expected.lower()):
            return True
    return False


@dataclass(frozen=True)
class Recipient:
    """Who earned the credential: a DID (or other URI) or an email address, hashed with a salt."""

    did: str | None = None
    email: str | None = None
    salt: str | None = None

    def subject_fields(self) -> dict[str, Any]:
        if self.did:
            if not is_uri(self.did):
                raise CredentialError(f"{self.did!r} is not a DID or URI", field="recipient.did")
            fields: dict[str, Any] = {"id": self.did}
            if self.email:
                fields["identifier"] = [hashed_email_identity(self.email, self.salt)]
            return fields
        if self.email:
            return {"identifier": [hashed_email_identity(self.email, self.salt)]}
        raise CredentialError("A recipient needs a DID or an email address", field="recipient")


def _with_type(value: Mapping[str, Any], required: str) -> dict[str, Any]:
    """A copy whose ``type`` list includes ``required`` (a bare string becomes a list)."""
    result = dict(value)
    types = result.get("type", [required])
    types = [types] if isinstance(types, str) else list(types)
    if required not in types:
        types.insert(0, required)
    result["type"] = types
    return result


def _check_id(value: Mapping[str, Any], field: str) -> None:
    if not is_uri(value.get("id")):
        raise CredentialError(f"{field}.id must be a URI (https:, did:, urn:)", field=f"{field}.id")


def _check_achievement(achievement: Mapping[str, Any]) -> dict[str, Any]:
    _check_id(achievement, "achievement")
    if not str(achievement.get("name") or "").strip():
        raise CredentialError("The achievement needs a name", field="achievement.name")
    criteria = achievement.get("criteria")
    if not isinstance(criteria, Mapping) or not (criteria.get("narrative") or criteria.get("id")):
        raise CredentialError(
            "The achievement needs criteria (a narrative or an id)", field="achievement.criteria"
        )
    if not str(achievement.get("description") or "").strip():
        raise CredentialError(
            "The achievement needs a description", field="achievement.description"
        )
    return _with_type(achievement, "Achievement")


def _results(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    checked = []
    for position, result in enumerate(results):
        if not isinstance(result, Mapping):
            raise CredentialError("Each result must be an object", field=f"result[{position}]")
        checked.append(_with_type(result, "Result"))
    return checked


def _evidence(evidence: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    checked = []
    for position, item in enumerate(evidence):
        if not isinstance(item, Mapping):
            raise CredentialError(
                "Each evidence item must be an object", field=f"evidence[{position}]"
            )
        if "id" in item and not is_uri(item["id"]):
            raise CredentialError("evidence id must be a URI", field=f"evidence[{position}].id")
        checked.append(_with_type(item, "Evidence"))
    return checked


@dataclass(frozen=True)
class CredentialTemplate:
    """What every credential of one achievement from one issuer shares, checked once.

    :meth:`build` then adds what differs per credential. Bulk issuance builds one template per
    definition and thousands of credentials from it; the built documents *share* the template's
    issuer and achievement objects, which must therefore be treated as read-only.
    """

    issuer: dict[str, Any]
    achievement: dict[str, Any]
    name: str
    description: str | None = None
    image: dict[str, Any] | None = None
    contexts: tuple[str, ...] = (VC_V2, OB_V3)
    credential_schema: bool = True
    shared_have_fast_form: bool = False
    """The shared issuer and achievement canonicalise on JCS's fast path (checked once)."""

    @classmethod
    def create(
        cls,
        *,
        issuer: Mapping[str, Any],
        achievement: Mapping[str, Any],
        name: str | None = None,
        description: str | None = None,
        image: Mapping[str, Any] | None = None,
        extra_contexts: Sequence[str] = (),
        credential_schema: bool = True,
    ) -> CredentialTemplate:
        _check_id(issuer, "issuer")
        if not str(issuer.get("name") or "").strip():
            raise CredentialError("The issuer profile needs a name", field="issuer.name")
        checked = _check_achievement(achievement)
        typed_issuer = _with_type(issuer, "Profile")
        return cls(
            issuer=typed_issuer,
            achievement=checked,
            name=name or str(checked["name"]),
            description=description or None,
            image=_with_type(image, "Image") if image else None,
            contexts=(VC_V2, OB_V3, *extra_contexts),
            credential_schema=credential_schema,
            shared_have_fast_form=jcs.has_fast_form(typed_issuer) and jcs.has_fast_form(checked),
        )

    def canonical_bytes(self, credential: dict[str, Any]) -> bytes:
        """The JCS bytes of an (unsigned) credential this template built, checking only what
        differs per credential when the shared parts were checked at creation."""
        subject = credential.get("credentialSubject")
        if (
            not self.shared_have_fast_form
            or credential.get("issuer") is not self.issuer
            or not isinstance(subject, dict)
            or subject.get("achievement") is not self.achievement
        ):
            return jcs.canonicalize(credential)
        skeleton = {**credential, "issuer": "", "credentialSubject": {**subject, "achievement": ""}}
        return jcs.canonicalize_with_checked_parts(credential, skeleton)

    def build(
        self,
        *,
        credential_id: str,
        recipient: Recipient,
        valid_from: datetime,
        valid_until: datetime | None = None,
        results: Sequence[Mapping[str, Any]] = (),
        evidence: Sequence[Mapping[str, Any]] = (),
        credential_status: Mapping[str, Any] | None = None,
        awarded_date: datetime | None = None,
    ) -> dict[str, Any]:
        """An unsigned OB 3.0 ``OpenBadgeCredential`` as a JSON-ready dict."""
        if not is_uri(credential_id):
            raise CredentialError("The credential id must be a URI", field="id")
        if valid_until is not None and valid_until <= valid_from:
            raise CredentialError("validUntil must be after validFrom", field="validUntil")
        subject: dict[str, Any] = {"type": ["AchievementSubject"], **recipient.subject_fields()}
        subject["achievement"] = self.achievement
        if results:
            subject["result"] = _results(results)
        credential: dict[str, Any] = {
            "@context": list(self.contexts),
            "id": credential_id,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": self.name,
            "issuer": self.issuer,
            "validFrom": format_datetime(valid_from),
            "credentialSubject": subject,
        }
        if self.description:
            credential["description"] = self.description
        if self.image:
            credential["image"] = self.image
        if awarded_date:
            credential["awardedDate"] = format_datetime(awarded_date)
        if valid_until:
            credential["validUntil"] = format_datetime(valid_until)
        if evidence:
            credential["evidence"] = _evidence(evidence)
        if self.credential_schema:
            credential["credentialSchema"] = [{"id": OB_SCHEMA_URL, "type": OB_SCHEMA_TYPE}]
        if credential_status:
            credential["credentialStatus"] = dict(credential_status)
        return credential


def build_openbadge_credential(
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    achievement: Mapping[str, Any],
    recipient: Recipient,
    valid_from: datetime,
    valid_until: datetime | None = None,
    name: str | None = None,
    description: str | None = None,
    results: Sequence[Mapping[str, Any]] = (),
    evidence: Sequence[Mapping[str, Any]] = (),
    credential_status: Mapping[str, Any] | None = None,
    credential_schema: bool = True,
    awarded_date: datetime | None = None,
    image: Mapping[str, Any] | None = None,
    extra_contexts: Sequence[str] = (),
) -> dict[str, Any]:
    """An unsigned OB 3.0 ``OpenBadgeCredential`` as a JSON-ready dict (one-off: a template
    used once; the issuer and achievement are copied, not shared)."""
    if not is_uri(credential_id):
        raise CredentialError("The credential id must be a URI", field="id")
    template = CredentialTemplate.create(
        issuer=issuer, achievement=achievement, name=name, description=description,
        image=image, extra_contexts=extra_contexts, credential_schema=credential_schema,
    )  # fmt: skip
    return template.build(
        credential_id=credential_id, recipient=recipient, valid_from=valid_from,
        valid_until=valid_until, results=results, evidence=evidence,
        credential_status=credential_status, awarded_date=awarded_date,
    )  # fmt: skip


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    value = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return value if isinstance(value, str) else None


def result_labels(subject: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each ``credentialSubject.result`` as ``{name, value}``, a rubric level named rather than
    shown as its id; entries that are not objects are skipped."""
    achievement = subject.get("achievement")
    if not isinstance(achievement, Mapping):
        achievement = {}
    descriptions = achievement.get("resultDescription")
    levels: dict[str, str] = {}
    names: dict[str, str] = {}
    for description in descriptions if isinstance(descriptions, list) else []:
        if not isinstance(description, Mapping):
            continue
        names[str(description.get("id"))] = str(description.get("name", "Result"))
        criterion_levels = description.get("rubricCriterionLevel")
        for level in criterion_levels if isinstance(criterion_levels, list) else []:
            if isinstance(level, Mapping):
                levels[str(level.get("id"))] = str(level.get("name"))
    results = subject.get("result")
    labels = []
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, Mapping):
            continue
        value = result.get("achievedLevel") or result.get("value") or ""
        labels.append(
            {
                "name": names.get(str(result.get("resultDescription")), "Result"),
                "value": levels.get(str(value), str(value)),
            }
        )
    return labels

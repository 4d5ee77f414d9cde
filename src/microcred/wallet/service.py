"""Importing credentials from other issuers into a learner's wallet, and re-verifying them.

Accepted: OB 3.0 JSON or VC-JWT, OB 2.0 hosted assertions (JSON) and signed assertions (JWS),
each as text or baked into a PNG/SVG. A credential is verified on import — one that fails is
refused and nothing is stored — and again whenever it is used (pathway progress, transfer
evaluation) once its last verification is older than :data:`REVERIFY_AFTER`, so a revocation
at the issuer is seen within minutes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import User
from microcred.accounts.service import Principal, record_audit
from microcred.catalogue import service as catalogue
from microcred.credentials.baking import extract, image_kind
from microcred.credentials.dids import JsonFetcher, http_json_fetcher
from microcred.credentials.documents import identity_matches, parse_datetime
from microcred.credentials.errors import CredentialError
from microcred.credentials.proofs.jwt import looks_like_jwt
from microcred.credentials.resolvers import REMOTE_TIMEOUT_SECONDS, ServerFetcher, verify
from microcred.credentials.verify import Check
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.settings import Settings
from microcred.wallet.models import ImportedCredential
from microcred.wallet.ob2 import decode_jws, is_ob2, verify_ob2

REVERIFY_AFTER = timedelta(minutes=10)
MAX_IMPORT_BYTES = 4 * 1024 * 1024


class WalletError(MicrocredError):
    """An import that cannot be read or does not verify."""


class VerificationFailed(WalletError):
    status_code = 422

    def __init__(self, checks: Sequence[Check]):
        failed = [check for check in checks if check.status == "fail"]
        reasons = "; ".join(f"{check.name}: {check.reason}" for check in failed[:4])
        super().__init__(f"The credential does not verify — {reasons}", field="credential")
        self.checks = list(checks)


@dataclass(frozen=True)
class ImportSource:
    """The credential's text (JSON or compact JWS/JWT) and how it arrived."""

    text: str
    prefix: str = ""


@dataclass
class Verified:
    """A verification's outcome, reduced to what the wallet stores."""

    valid: bool
    checks: list[Check]
    source_format: str
    credential: dict[str, Any]
    issuer_id: str
    issuer_name: str
    achievement_id: str
    achievement_name: str
    skills: list[str]
    credits: float
    earned_at: datetime


def read_source(data: bytes | str) -> ImportSource:
    """The credential text in an upload or a paste (baked images are opened)."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not raw.strip():
        raise WalletError("Choose a file or paste a credential.", field="credential")
    if len(raw) > MAX_IMPORT_BYTES:
        raise WalletError(f"The credential is over {MAX_IMPORT_BYTES} bytes.", field="credential")
    kind = image_kind(raw)
    if kind is not None:
        try:
            return ImportSource(extract(raw).text.strip(), f"{kind}+")
        except CredentialError as error:
            raise WalletError(error.message, field="credential") from error
    try:
        return ImportSource(raw.decode("utf-8").strip().lstrip("\ufeff"))
    except UnicodeDecodeError:
        raise WalletError(
            "Not a credential: expected JSON, a JWT, or a PNG/SVG badge.", field="credential"
        ) from None


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


EQF_LEVEL_URL = "http://data.europa.eu/snb/eqf/"


def skill_alignments(alignment: Any) -> list[tuple[str, str]]:
    """An achievement's aligned skills as ``(url, name)``; its EQF level alignment is a level,
    not a skill, and is left out."""
    items = alignment if isinstance(alignment, list) else []
    return [
        (str(item["targetUrl"]), str(item.get("targetName") or item["targetUrl"]).strip())
        for item in items
        if isinstance(item, Mapping)
        and isinstance(item.get("targetUrl"), str)
        and item.get("targetType") != "ext:EQFLevel"
        and not str(item["targetUrl"]).startswith(EQF_LEVEL_URL)
    ]


def achievement_skills(credential: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The skills an OB 3.0 credential's achievement is aligned to, as ``(url, name)``."""
    subject = _first(credential.get("credentialSubject"))
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    return skill_alignments(
        achievement.get("alignment") if isinstance(achievement, Mapping) else None
    )


def _alignment_urls(alignment: Any) -> list[str]:
    return [url for url, _ in skill_alignments(alignment)]


def _name(value: Any, fallback: str) -> str:
    if isinstance(value, Mapping):
        value = value.get("name")
    return str(value)[:200] if value else fallback


def _ob3_recipient_checks(credential: Mapping[str, Any], email: str) -> Check:
    subject = _first(credential.get("credentialSubject")) or {}
    identifiers = subject.get("identifier") if isinstance(subject, Mapping) else None
    identities = identifiers if isinstance(identifiers, list) else []
    if any(isinstance(i, Mapping) and identity_matches(i, email) for i in identities):
        return Check("recipient", "pass", "Issued to you")
    if identities:
        return Check("recipient", "fail", f"Not issued to {email}: it names someone else")
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    return Check(
        "recipient", "warning", f"Issued to {subject_id or 'an unnamed subject'}; not checked"
    )


def _verify_ob3(
    session: Session, source: ImportSource, email: str, settings: Settings,
    fetch: JsonFetcher | None, now: datetime,
) -> Verified:  # fmt: skip
    report = verify(
        session, source.text, settings, fetcher=ServerFetcher(session, settings, fetch), now=now
    )
    credential = report.credential or {}
    checks = [*report.checks]
    if credential:
        checks.append(_ob3_recipient_checks(credential, email))
    subject = _first(credential.get("credentialSubject")) or {}
    achievement = subject.get("achievement", {}) if isinstance(subject, Mapping) else {}
    issuer = credential.get("issuer")
    issuer_id = str(issuer.get("id") if isinstance(issuer, Mapping) else issuer or "")
    earned_text = credential.get("validFrom") or credential.get("issuanceDate")
    credits = achievement.get("creditsAvailable") if isinstance(achievement, Mapping) else None
    return Verified(
        valid=all(check.status != "fail" for check in checks) and bool(checks),
        checks=checks,
        source_format=f"{source.prefix}ob3-{'jwt' if looks_like_jwt(source.text) else 'json'}",
        credential=credential,
        issuer_id=issuer_id,
        issuer_name=_name(issuer, issuer_id),
        achievement_id=str(achievement.get("id") or credential.get("id") or ""),
        achievement_name=_name(achievement, _name(credential, "Credential")),
        skills=_alignment_urls(achievement.get("alignment")),
        credits=float(credits) if isinstance(credits, int | float) else 0.0,
        earned_at=parse_datetime(earned_text, "validFrom") if earned_text else now,
    )


def _verify_ob2(source: ImportSource, email: str, fetch: JsonFetcher, now: datetime) -> Verified:
    payload: Mapping[str, Any] | str = source.text
    if not looks_like_jwt(source.text):
        payload = json.loads(source.text)
    result = verify_ob2(payload, recipient_email=email, fetch=fetch, now=now)
    issued = result.assertion.get("issuedOn")
    try:
        earned = parse_datetime(issued, "issuedOn") if issued else now
    except CredentialError:
        earned = now
    return Verified(
        valid=result.valid,
        checks=result.checks,
        source_format=f"{source.prefix}{result.form}",
        credential={**result.assertion, "badge": result.badge or result.assertion.get("badge")},
        issuer_id=str(result.issuer.get("id", "")),
        issuer_name=_name(result.issuer, "Unknown issuer"),
        achievement_id=str(result.badge.get("id", "")),
        achievement_name=_name(result.badge, "Badge"),
        skills=_alignment_urls(result.badge.get("alignment")),
        credits=0.0,
        earned_at=earned,
    )


def _is_ob2_text(text: str) -> bool:
    if looks_like_jwt(text):
        try:
            _, payload, _, _ = decode_jws(text)
        except CredentialError:
            return False
        return "vc" not in payload and ("badge" in payload or is_ob2(payload))
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and is_ob2(value)


def verify_source(
    session: Session,
    source: ImportSource,
    email: str,
    settings: Settings,
    *,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
) -> Verified:
    """Verify an OB 2.0 or OB 3.0 credential for the learner with this e-mail address."""
    now = now or datetime.now(UTC)
    if _is_ob2_text(source.text):
        remote = fetch or http_json_fetcher(
            timeout=REMOTE_TIMEOUT_SECONDS, allow_private=settings.fetch_private_addresses
        )
        return _verify_ob2(source, email, ServerFetcher(session, settings, remote), now)
    return _verify_ob3(session, source, email, settings, fetch, now)


_DEFINITION_URL = re.compile(r"/definitions/(?P<id>[0-9a-f]{32})(?:/v/\d+)?$")


def _our_definition(achievement_id: str, settings: Settings) -> str | None:
    base = settings.base_url.rstrip("/")
    if not achievement_id.startswith(base + "/"):
        return None
    match = _DEFINITION_URL.search(achievement_id)
    return match["id"] if match else None


def import_credential(
    session: Session,
    principal: Principal,
    data: bytes | str,
    settings: Settings,
    *,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
) -> ImportedCredential:
    """Verify and store a credential in the principal's wallet; refused if it fails."""
    source = read_source(data)
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such learner.")
    fingerprint = _fingerprint(source.text)
    existing = session.scalar(
        select(ImportedCredential).where(
            ImportedCredential.user_id == user.id, ImportedCredential.fingerprint == fingerprint
        )
    )
    if existing is not None:
        raise WalletError(
            "This credential is already in your wallet.", field="credential", status_code=409
        )
    try:
        outcome = verify_source(session, source, user.email, settings, fetch=fetch, now=now)
    except (json.JSONDecodeError, CredentialError) as error:
        message = error.message if isinstance(error, CredentialError) else f"Not JSON: {error}"
        raise WalletError(message, field="credential") from error
    if not outcome.valid:
        raise VerificationFailed(outcome.checks)
    definition_id = _our_definition(outcome.achievement_id, settings)
    definition = catalogue.current_published(session, definition_id) if definition_id else None
    row = ImportedCredential(
        user_id=user.id,
        source_format=outcome.source_format,
        original=source.text,
        fingerprint=fingerprint,
        credential=outcome.credential,
        issuer_id=outcome.issuer_id[:500],
        issuer_name=outcome.issuer_name,
        achievement_id=outcome.achievement_id[:500],
        achievement_name=outcome.achievement_name,
        definition_id=definition_id,
        skills=outcome.skills,
        ects=(definition.ects_credits or 0.0) if definition else outcome.credits,
        hours=definition.workload_hours if definition else 0.0,
        eqf_level=definition.eqf_level if definition else None,
        earned_at=outcome.earned_at,
        verified=True,
        verified_at=now or datetime.now(UTC),
        checks=[_check_dict(check) for check in outcome.checks],
    )
    session.add(row)
    session.flush()
    record_audit(
        session, principal, "wallet.import", object_type="imported_credential",
        object_id=row.id, details={"format": row.source_format, "issuer": row.issuer_id},
    )  # fmt: skip
    return row


def _check_dict(check: Check) -> dict[str, Any]:
    return {"name": check.name, "status": check.status, "reason": check.reason}


def reverify(
    session: Session,
    row: ImportedCredential,
    settings: Settings,
    *,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
) -> ImportedCredential:
    """Verify a stored credential again (revoked or expired since?) and record the outcome."""
    now = now or datetime.now(UTC)
    user = session.get(User, row.user_id)
    assert user is not None
    prefix = row.source_format.split("+", 1)[0] + "+" if "+" in row.source_format else ""
    try:
        outcome = verify_source(
            session, ImportSource(row.original, prefix), user.email, settings, fetch=fetch, now=now
        )
        row.verified, checks = outcome.valid, outcome.checks
    except (json.JSONDecodeError, CredentialError) as error:
        row.verified, checks = False, [Check("verification", "fail", str(error))]
    row.verified_at = now
    row.checks = [_check_dict(check) for check in checks]
    session.flush()
    return row


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def wallet_of(
    session: Session,
    user_id: str,
    settings: Settings,
    *,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
    max_age: timedelta = REVERIFY_AFTER,
) -> list[ImportedCredential]:
    """The learner's imported credentials, re-verifying those checked longer ago than max_age."""
    return wallets_of(session, [user_id], settings, fetch=fetch, now=now, max_age=max_age)[user_id]


WALLETS_CHUNK = 500
"""Learners per ``IN (…)`` list of :func:`wallets_of`."""


def wallets_of(
    session: Session,
    user_ids: Collection[str],
    settings: Settings,
    *,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
    max_age: timedelta = REVERIFY_AFTER,
) -> dict[str, list[ImportedCredential]]:
    """:func:`wallet_of` for many learners, in a query per :data:`WALLETS_CHUNK` of them; every
    id is a key (an empty list for an empty wallet)."""
    now = now or datetime.now(UTC)
    found: dict[str, list[ImportedCredential]] = {user_id: [] for user_id in user_ids}
    ordered = sorted(found)
    for start in range(0, len(ordered), WALLETS_CHUNK):
        for row in session.scalars(
            select(ImportedCredential)
            .where(ImportedCredential.user_id.in_(ordered[start : start + WALLETS_CHUNK]))
            .order_by(ImportedCredential.earned_at.desc())
        ):
            found[row.user_id].append(row)
    for held in found.values():
        for row in held:
            if now - _aware(row.verified_at) >= max_age:
                reverify(session, row, settings, fetch=fetch, now=now)
    return found


def get_imported(session: Session, principal: Principal, imported_id: str) -> ImportedCredential:
    row = session.get(ImportedCredential, imported_id)
    if row is None:
        raise NotFound("No such credential in your wallet.")
    if row.user_id != principal.user_id and not principal.is_platform_admin:
        raise PermissionDenied("That credential is in someone else's wallet.")
    return row


def remove_imported(session: Session, principal: Principal, imported_id: str) -> None:
    row = get_imported(session, principal, imported_id)
    session.delete(row)
    record_audit(
        session, principal, "wallet.remove", object_type="imported_credential", object_id=row.id
    )
    session.flush()

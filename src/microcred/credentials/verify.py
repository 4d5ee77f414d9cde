"""Verification of any credential we or another issuer made, as a report of named checks.

Input may be a dict, JSON text, a compact JWT, or a PNG/SVG with the credential baked in. Each
check is pass / fail / warning with a reason; nothing here raises on bad input. Network look-ups
(did:web, key URLs, status lists) only happen through the injected resolver and status checker.

A Verifiable Presentation (``type`` VerifiablePresentation) gets the presentation's own checks
(the holder's ``authentication`` proof, challenge, domain, freshness) and then each embedded
credential's full report, its checks named ``credential N · check``. A presentation secured as
a JWT (VC-JOSE-COSE ``vp+jwt``: typed so, or a JWS whose payload is a presentation) gets the same
checks: the holder's proof is the JWS signature by the key its ``kid`` names, the challenge and
domain are its ``nonce`` and ``aud`` claims, its freshness is ``iat`` / ``exp``.

JSON-LD: the context check is structural (the list must start with a VC context and every URL
must be one we ship). Full JSON-LD processing happens where the securing mechanism needs it, in
the canonicalisation of ``eddsa-rdfc-2022`` / ``Ed25519Signature2020`` proofs; JCS and JOSE
secure the JSON itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal
from urllib.parse import unquote

from microcred.credentials.baking import extract, image_kind
from microcred.credentials.dids import KeyResolver, VerificationMethod
from microcred.credentials.documents import issuer_id, parse_datetime
from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import VC_V1, VC_V2, is_known_context
from microcred.credentials.proofs.dataintegrity import ProofResult, verify_proofs
from microcred.credentials.proofs.jwt import (
    JOSE_TYPES,
    DecodedJwt,
    decode_jwt,
    looks_like_jwt,
    verify_jwt,
)
from microcred.credentials.schemas import validate_schema
from microcred.credentials.status.bitstring import StatusChecker
from microcred.endorsements.documents import (
    embedded_endorsements,
    endorsement_label,
    is_endorsement,
)
from microcred.i18n import L_, Joined, L_plural, Text

CheckStatus = Literal["pass", "fail", "warning"]
MAX_INPUT_BYTES = 8 * 1024 * 1024

PARSE = "parse"
CONTEXT = "context"
SCHEMA = "schema"
PROOF = "proof"
ISSUER_KEY = "issuer key"
VALIDITY = "validity"
STATUS = "status"
ISSUER = "issuer"
HOLDER_PROOF = "holder proof"
CHALLENGE = "challenge"
DOMAIN = "domain"
FRESHNESS = "freshness"
CREDENTIALS = "credentials"
ENDORSEMENTS = "endorsements"

PRESENTATION_TYPE = "VerifiablePresentation"
ENVELOPED_CREDENTIAL = "EnvelopedVerifiableCredential"
VP_JWT_TYPE = JOSE_TYPES["vp-jose"][0]
PRESENTATION_MAX_AGE = timedelta(hours=24)
"""A presentation created longer ago than this is reported with a freshness warning."""
CLOCK_SKEW = timedelta(minutes=5)


_ON_THE: dict[str, Text] = {
    "credential": L_("on the credential"),
    "issuer": L_("on the issuer"),
    "achievement": L_("on the achievement"),
    "achievement creator": L_("on the achievement creator"),
}
"""Where an endorsement was found, as its report line says."""


class _CheckName(Text):
    """A check's name quoted in another check's reason, shown as the report names it."""

    def translated(self) -> str:
        from microcred.credentials.check_labels import check_name  # it imports this module

        return check_name(str.__str__(self))


def _suite_says(suite: str, reason: str) -> str:
    """A proof line: its suite (``eddsa-rdfc-2022``, ``VC-JWT``) and what it found."""
    return L_("%(suite)s: %(reason)s", suite=suite, reason=reason)


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    reason: str


@dataclass(frozen=True)
class KnownIssuer:
    """An issuer as this server knows it (registered organisation, its published DID)."""

    id: str
    name: str
    url: str | None = None


IssuerLookup = Callable[[str], KnownIssuer | None]


@dataclass
class VerificationReport:
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    source: str = "unknown"
    """json, jwt, png+json, png+jwt, svg+json, svg+jwt."""
    jcs_digest: bytes | None = None
    """SHA-256 of the JCS form of the credential without its proofs, when a proof check already
    computed it (the hash the ledger records), so that the ledger check need not redo it."""
    kind: Literal["credential", "presentation"] = "credential"
    embedded: list[VerificationReport] = field(default_factory=list)
    """A presentation's credentials' own reports (their checks are also in ``checks``)."""

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.status != "fail" for check in self.checks)

    def failed(self, name: str) -> bool:
        return any(check.name == name and check.status == "fail" for check in self.checks)

    def check(self, name: str) -> list[Check]:
        return [item for item in self.checks if item.name == name]

    def add(self, name: str, status: CheckStatus, reason: str) -> None:
        self.checks.append(Check(name, status, reason))

    def as_dict(self) -> dict[str, Any]:
        result = {
            "valid": self.valid,
            "kind": self.kind,
            "source": self.source,
            "checks": [asdict(item) for item in self.checks],
            "credential": self.credential,
        }
        if self.kind == "presentation":
            result["credentials"] = [
                {
                    "index": index,
                    "valid": report.valid,
                    "id": (report.credential or {}).get("id"),
                    "source": report.source,
                }
                for index, report in enumerate(self.embedded, 1)
            ]
        return result


MAX_JSON_DEPTH = 200


@dataclass
class _Parsed:
    credential: dict[str, Any]
    source: str
    jwt: DecodedJwt | None = None


def nested_too_deeply(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit``, found without parsing.

    ``json.loads`` recurses in C; with a raised recursion limit a hostile document would overflow
    the stack and crash the process, so the depth is checked first. Counting brackets is cheap,
    and only text with many of them is scanned.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _parse_text(text: str, prefix: str) -> _Parsed:
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise CredentialError(L_("The input is empty"))
    if stripped[0] == "{":
        if nested_too_deeply(stripped):
            raise CredentialError(L_("The JSON is nested too deeply"))
        try:
            value = json.loads(stripped)
        except ValueError as error:  # JSONDecodeError, or an integer too long to convert
            raise CredentialError(L_("Not valid JSON: %(error)s", error=error)) from error
        except RecursionError as error:
            raise CredentialError(L_("The JSON is nested too deeply")) from error
        if not isinstance(value, dict):
            raise CredentialError(L_("The credential must be a JSON object"))
        return _Parsed(value, f"{prefix}json")
    if looks_like_jwt(stripped):
        decoded = decode_jwt(stripped)
        return _Parsed(decoded.credential, f"{prefix}jwt", decoded)
    raise CredentialError(L_("Not a credential: expected JSON, a compact JWT, or a PNG/SVG image"))


def _parse(source: bytes | str | Mapping[str, Any]) -> _Parsed:
    if isinstance(source, Mapping):
        return _Parsed(dict(source), "json")
    source_bytes = source.encode("utf-8") if isinstance(source, str) else bytes(source)
    if len(source_bytes) > MAX_INPUT_BYTES:
        raise CredentialError(L_("The input is larger than %(limit)s bytes", limit=MAX_INPUT_BYTES))
    kind = image_kind(source_bytes)
    if kind is not None:
        baked = extract(source_bytes)
        return _parse_text(baked.text, f"{kind}+")
    try:
        text = source_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CredentialError(L_("The input is neither UTF-8 text nor a PNG/SVG image")) from error
    return _parse_text(text, "")


def _check_context(report: VerificationReport, credential: Mapping[str, Any]) -> None:
    context = credential.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if not contexts or contexts[0] not in (VC_V2, VC_V1):
        report.add(
            CONTEXT, "fail", L_("The first @context must be %(v2)s (or %(v1)s)", v2=VC_V2, v1=VC_V1)
        )
        return
    for entry in contexts:
        if isinstance(entry, dict):
            continue
        if not isinstance(entry, str) or not is_known_context(entry):
            report.add(
                CONTEXT, "fail", L_("Unknown JSON-LD context %(context)s", context=repr(entry))
            )
            return
    types = credential.get("type")
    type_list = types if isinstance(types, list) else [types]
    is_badge = bool({"OpenBadgeCredential", "AchievementCredential"} & set(map(str, type_list)))
    if is_badge and not any("purl.imsglobal.org/spec/ob/" in str(entry) for entry in contexts):
        report.add(CONTEXT, "fail", L_("An Open Badge needs the OB 3.0 context"))
        return
    version = "VC 2.0" if contexts[0] == VC_V2 else "VC 1.1"
    known = L_(
        "%(version)s; all %(count)s contexts are known", version=version, count=len(contexts)
    )
    report.add(CONTEXT, "pass", known)


def _check_schema(report: VerificationReport, credential: Mapping[str, Any]) -> None:
    outcome = validate_schema(credential)
    if not outcome.applicable:
        why = (
            L_("VC 1.1 credential")
            if "issuanceDate" in credential
            else L_("no schema for its type")
        )
        report.add(SCHEMA, "warning", L_("JSON Schema not checked (%(why)s)", why=why))
    elif outcome.errors:
        errors = "; ".join(outcome.errors)
        report.add(
            SCHEMA,
            "fail",
            L_("Does not match %(schema)s: %(errors)s", schema=outcome.schema, errors=errors),
        )
    else:
        report.add(SCHEMA, "pass", L_("Matches %(schema)s", schema=outcome.schema))


def _check_key(
    report: VerificationReport, methods: list[VerificationMethod], issuer: str | None
) -> None:
    if not methods:
        return
    for method in methods:
        if method.type == "JsonWebKey" and not method.id:
            reason = L_("The JWT carries its own key (jwk), which is not tied to the issuer")
            report.add(ISSUER_KEY, "warning", reason)
        elif issuer is None:
            report.add(ISSUER_KEY, "fail", L_("The credential names no issuer id"))
        elif method.controller != issuer and issuer.startswith("urn:"):
            reason = L_(
                "The issuer id %(issuer)s is a URN, so key %(key)s cannot be tied to it",
                issuer=issuer,
                key=method.id,
            )
            report.add(ISSUER_KEY, "warning", reason)
        elif method.controller != issuer:
            report.add(
                ISSUER_KEY,
                "fail",
                L_(
                    "Key %(key)s is controlled by %(controller)s, not by the issuer %(issuer)s",
                    key=method.id,
                    controller=method.controller,
                    issuer=issuer,
                ),
            )
        else:
            report.add(
                ISSUER_KEY,
                "pass",
                L_("Key %(key)s belongs to the issuer %(issuer)s", key=method.id, issuer=issuer),
            )


def _check_proofs(
    report: VerificationReport,
    parsed: _Parsed,
    resolver: KeyResolver,
    jcs_digest: bytes | None = None,
) -> None:
    credential = parsed.credential
    verified: list[VerificationMethod] = []
    key_failures: list[str] = []
    lines: list[Check] = []
    if parsed.jwt is not None:
        outcome = verify_jwt(parsed.jwt, resolver)
        if outcome.verified and outcome.method is not None:
            verified.append(outcome.method)
            lines.append(Check(PROOF, "pass", L_("VC-JWT: %(reason)s", reason=outcome.reason)))
        elif outcome.key_unresolved:
            key_failures.append(outcome.reason)
            not_checked = L_("VC-JWT: signature not checked (%(reason)s)", reason=outcome.reason)
            lines.append(Check(PROOF, "fail", not_checked))
        else:
            lines.append(Check(PROOF, "fail", L_("VC-JWT: %(reason)s", reason=outcome.reason)))
    for result in verify_proofs(credential, resolver, jcs_digest=jcs_digest):
        report.jcs_digest = report.jcs_digest or result.jcs_digest
        if result.verified and result.method is not None:
            verified.append(result.method)
            lines.append(Check(PROOF, "pass", _suite_says(result.suite, result.reason)))
        elif not result.supported:
            lines.append(Check(PROOF, "warning", _suite_says(result.suite, result.reason)))
        elif result.key_unresolved:
            key_failures.append(result.reason)
            not_checked = L_("%(suite)s: signature not checked", suite=result.suite)
            lines.append(Check(PROOF, "fail", not_checked))
        else:
            lines.append(Check(PROOF, "fail", _suite_says(result.suite, result.reason)))
    if not lines:
        report.add(PROOF, "fail", L_("The credential has no proof"))
        return
    if verified:
        lines = [
            line if line.status != "fail" else Check(PROOF, "warning", line.reason)
            for line in lines
        ]
    elif all(line.status == "warning" for line in lines):
        lines.append(Check(PROOF, "fail", L_("No supported proof")))
    report.checks.extend(lines)
    for reason in key_failures if not verified else []:
        report.add(ISSUER_KEY, "fail", reason)
    _check_key(report, verified, issuer_id(credential))


def _check_validity(report: VerificationReport, parsed: _Parsed, now: datetime) -> None:
    credential = parsed.credential
    try:
        start_text = credential.get("validFrom") or credential.get("issuanceDate")
        end_text = credential.get("validUntil") or credential.get("expirationDate")
        start = parse_datetime(start_text, "validFrom") if start_text else None
        end = parse_datetime(end_text, "validUntil") if end_text else None
    except CredentialError as error:
        report.add(VALIDITY, "fail", error.message)
        return
    if parsed.jwt is not None:
        claims = parsed.jwt.payload
        if isinstance(claims.get("nbf"), int | float):
            nbf = datetime.fromtimestamp(claims["nbf"], UTC)
            start = max(start, nbf) if start else nbf
        if isinstance(claims.get("exp"), int | float):
            exp = datetime.fromtimestamp(claims["exp"], UTC)
            end = min(end, exp) if end else exp
    if start is not None and now < start:
        report.add(VALIDITY, "fail", L_("Not valid until %(start)s", start=start.isoformat()))
    elif end is not None and now > end:
        report.add(VALIDITY, "fail", L_("Expired on %(end)s", end=end.isoformat()))
    elif start is None:
        report.add(VALIDITY, "fail", L_("The credential has no validFrom"))
    else:
        valid = (
            L_("Valid from %(start)s until %(end)s", start=start.isoformat(), end=end.isoformat())
            if end
            else L_("Valid from %(start)s", start=start.isoformat())
        )
        report.add(VALIDITY, "pass", valid)


def _check_status(
    report: VerificationReport, credential: Mapping[str, Any], checker: StatusChecker | None
) -> None:
    status = credential.get("credentialStatus")
    if status is None:
        report.add(STATUS, "pass", L_("No credentialStatus: the credential cannot be revoked"))
        return
    entries = status if isinstance(status, list) else [status]
    if checker is None:
        report.add(STATUS, "warning", L_("Revocation status not checked"))
        return
    for entry in entries:
        if not isinstance(entry, Mapping):
            report.add(STATUS, "fail", L_("credentialStatus entries must be objects"))
            continue
        outcome = checker.check(entry)
        if not outcome.supported:
            report.add(STATUS, "warning", L_("Not checked: %(reason)s", reason=outcome.reason))
        elif outcome.set is None:
            purpose = outcome.purpose or "status"
            cannot = L_(
                "Cannot check %(purpose)s: %(reason)s", purpose=purpose, reason=outcome.reason
            )
            report.add(STATUS, "fail", cannot)
        elif outcome.set:
            report.add(STATUS, "fail", outcome.reason)
        else:
            report.add(STATUS, "pass", outcome.reason)


def _check_issuer(
    report: VerificationReport, credential: Mapping[str, Any], lookup: IssuerLookup | None
) -> None:
    identifier = issuer_id(credential)
    if lookup is None or identifier is None:
        return
    known = lookup(identifier)
    if known is None:
        unknown = L_("%(issuer)s is not an issuer registered on this server", issuer=identifier)
        report.add(ISSUER, "warning", unknown)
        return
    issuer = credential.get("issuer")
    claimed = issuer.get("name") if isinstance(issuer, Mapping) else None
    if claimed and claimed != known.name:
        says = L_(
            "Issued by %(name)s (the credential says %(claimed)s)",
            name=known.name,
            claimed=repr(claimed),
        )
        report.add(ISSUER, "warning", says)
    else:
        registered = L_("Issued by %(name)s, registered on this server", name=known.name)
        report.add(ISSUER, "pass", registered)


Source = bytes | str | Mapping[str, Any]
EmbeddedVerifier = Callable[[Source], VerificationReport]
"""Verifies one credential found in a presentation (the caller's full credential checks)."""


def _endorsement_problems(
    item: Any, expected_subject: str | None, report: VerificationReport
) -> str:
    """Why one embedded endorsement is not good ("" when it is)."""
    if not isinstance(item, Mapping) or not is_endorsement(item):
        return L_("not an EndorsementCredential")
    problems: list[str] = [
        L_("%(check)s: %(reason)s", check=_CheckName(check.name), reason=check.reason)
        for check in report.checks
        if check.status == "fail"
    ]
    subject = item.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    if expected_subject is not None and subject_id != expected_subject:
        problems.append(
            L_(
                "it endorses %(subject)s, not %(expected)s where it is embedded",
                subject=repr(subject_id),
                expected=repr(expected_subject),
            )
        )
    return Joined("; ", problems)


def _check_endorsements(
    report: VerificationReport, credential: Mapping[str, Any], verify: EmbeddedVerifier
) -> None:
    """Each embedded endorsement's own proof, schema, validity and status. A bad or withdrawn one
    is a warning naming it (the credential itself stays valid); no line when there is none."""
    found = embedded_endorsements(credential)
    if not found:
        return
    good: list[str] = []
    for embedded in found:
        item = embedded.document
        where = _ON_THE.get(embedded.where) or f"on the {embedded.where}"
        label = L_("%(label)s (%(where)s)", label=endorsement_label(item), where=where)
        try:
            checked = verify(item) if isinstance(item, Mapping) else VerificationReport()
            problems = _endorsement_problems(item, embedded.expected_subject, checked)
        except CredentialError as error:
            problems = error.message
        if problems:
            does_not_hold = L_(
                "Endorsement %(label)s does not hold: %(problems)s", label=label, problems=problems
            )
            report.add(ENDORSEMENTS, "warning", does_not_hold)
        else:
            good.append(label)
    if len(good) == len(found):
        verified = L_plural(
            "%(count)s endorsement verified: %(endorsements)s",
            "%(count)s endorsements verified: %(endorsements)s",
            len(good),
            endorsements=Joined("; ", good),
        )
        report.add(ENDORSEMENTS, "pass", verified)


def _read(report: VerificationReport, source: Source) -> _Parsed | None:
    try:
        parsed = _parse(source)
    except CredentialError as error:
        report.add(PARSE, "fail", error.message)
        return None
    report.credential, report.source = parsed.credential, parsed.source
    return parsed


def is_presentation(document: Mapping[str, Any]) -> bool:
    types = document.get("type")
    return PRESENTATION_TYPE in (types if isinstance(types, list) else [types])


def _secures_presentation(parsed: _Parsed) -> bool:
    """A presentation by its type, or a JWS whose header says it secures one (``vp+jwt``)."""
    typed = parsed.jwt is not None and parsed.jwt.header.get("typ") == VP_JWT_TYPE
    return typed or is_presentation(parsed.credential)


def _not_a_presentation(parsed: _Parsed) -> str | None:
    """Why what was read cannot be checked as a presentation; None when it can."""
    if is_presentation(parsed.credential):
        return None
    if parsed.jwt is not None and parsed.jwt.header.get("typ") == VP_JWT_TYPE:
        return L_(
            "The JWT is typed %(typ)s but its payload is not a %(type)s",
            typ=VP_JWT_TYPE,
            type=PRESENTATION_TYPE,
        )
    if parsed.jwt is not None:
        return L_("The JWT secures a credential, not a %(type)s", type=PRESENTATION_TYPE)
    return L_("Not a %(type)s", type=PRESENTATION_TYPE)


def _holder_id(presentation: Mapping[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _check_holder_proof(
    report: VerificationReport, presentation: Mapping[str, Any], resolver: KeyResolver
) -> list[Mapping[str, Any]]:
    """Check the presentation's ``authentication`` proofs; the proofs that hold, by the holder."""
    proof = presentation.get("proof")
    proofs = [] if proof is None else proof if isinstance(proof, list) else [proof]
    if not proofs:
        report.add(
            HOLDER_PROOF, "fail", L_("The presentation has no proof: nothing shows who sent it")
        )
        return []
    holder = _holder_id(presentation)
    held: list[Mapping[str, Any]] = []
    lines: list[Check] = []
    results: list[ProofResult] = verify_proofs(presentation, resolver, purpose="authentication")
    for item, result in zip(proofs, results, strict=True):
        controller = result.method.controller if result.method is not None else None
        if result.verified and holder is not None and controller != holder:
            reason = L_(
                "Key %(key)s is controlled by %(controller)s, not %(holder)s",
                key=result.verification_method,
                controller=controller,
                holder=holder,
            )
            lines.append(Check(HOLDER_PROOF, "fail", _suite_says(result.suite, reason)))
        elif result.verified:
            held.append(item)
            signer = holder or controller
            signed = L_("%(suite)s: signed by %(signer)s", suite=result.suite, signer=signer)
            lines.append(Check(HOLDER_PROOF, "pass", signed))
        else:
            status: CheckStatus = "fail" if result.supported else "warning"
            lines.append(Check(HOLDER_PROOF, status, _suite_says(result.suite, result.reason)))
    if held:
        lines = [
            line if line.status != "fail" else Check(HOLDER_PROOF, "warning", line.reason)
            for line in lines
        ]
    elif all(line.status == "warning" for line in lines):
        lines.append(Check(HOLDER_PROOF, "fail", L_("No supported proof")))
    report.checks.extend(lines)
    if holder is None:
        report.add(HOLDER_PROOF, "warning", L_("The presentation names no holder"))
    return held


def _check_jose_holder_proof(
    report: VerificationReport,
    decoded: DecodedJwt,
    presentation: Mapping[str, Any],
    resolver: KeyResolver,
) -> bool:
    """Check a ``vp+jwt``'s JWS signature by the key its ``kid`` names, the holder's."""
    typ = decoded.header.get("typ")
    if typ != VP_JWT_TYPE:
        not_typed = L_(
            "The JWT is typed %(typ)s, not %(expected)s", typ=repr(typ), expected=repr(VP_JWT_TYPE)
        )
        report.add(HOLDER_PROOF, "warning", not_typed)
    kid = decoded.header.get("kid")
    if not isinstance(kid, str) or not kid:
        report.add(HOLDER_PROOF, "fail", L_("The JWT names no key: its header has no kid"))
        return False
    outcome = verify_jwt(decoded, resolver)
    label = f"{VP_JWT_TYPE} {outcome.algorithm or '(no alg)'}"
    holder = _holder_id(presentation)
    controller = outcome.method.controller if outcome.method is not None else None
    if not outcome.verified:
        report.add(HOLDER_PROOF, "fail", _suite_says(label, outcome.reason))
        return False
    if holder is None:
        signed = L_("%(suite)s: signed by %(signer)s", suite=label, signer=controller or kid)
        report.add(HOLDER_PROOF, "pass", signed)
        report.add(HOLDER_PROOF, "warning", L_("The presentation names no holder"))
    elif not controller:
        reason = L_("the key in the JWT header is not tied to the holder %(holder)s", holder=holder)
        report.add(HOLDER_PROOF, "fail", _suite_says(label, reason))
        return False
    elif controller != holder:
        reason = L_(
            "Key %(key)s is controlled by %(controller)s, not %(holder)s",
            key=kid,
            controller=controller,
            holder=holder,
        )
        report.add(HOLDER_PROOF, "fail", _suite_says(label, reason))
        return False
    else:
        signed = L_("%(suite)s: signed by %(signer)s", suite=label, signer=holder)
        report.add(HOLDER_PROOF, "pass", signed)
    return True


def _matches(given: Any, expected: str) -> bool:
    return given == expected or (isinstance(given, list) and expected in given)


def _check_binding(
    report: VerificationReport,
    proofs: list[Mapping[str, Any]],
    challenge: str | None,
    domain: str | None,
) -> None:
    """The challenge and domain the verifier asked for must be signed into the holder's proof."""
    for name, expected in ((CHALLENGE, challenge), (DOMAIN, domain)):
        given = [proof.get(name) for proof in proofs if proof.get(name) is not None]
        if expected is None:
            expects_none = (
                L_(
                    "Not checked: the verifier expects no %(name)s"
                    " (the presentation carries %(given)s)",
                    name=name,
                    given=repr(given[0]),
                )
                if given
                else L_("Not checked: the verifier expects no %(name)s", name=name)
            )
            report.add(name, "warning", expects_none)
        elif any(_matches(value, expected) for value in given):
            signed = L_(
                "The holder signed the expected %(name)s %(expected)s",
                name=name,
                expected=repr(expected),
            )
            report.add(name, "pass", signed)
        elif given:
            other = L_(
                "The %(name)s %(given)s is not the expected %(expected)s",
                name=name,
                given=repr(given[0]),
                expected=repr(expected),
            )
            report.add(name, "fail", other)
        else:
            missing = L_(
                "The presentation carries no %(name)s (expected %(expected)s)",
                name=name,
                expected=repr(expected),
            )
            report.add(name, "fail", missing)


def _check_freshness(
    report: VerificationReport, proof: Mapping[str, Any], now: datetime, max_age: timedelta
) -> None:
    try:
        created = parse_datetime(proof.get("created"), "created")
        expires = proof.get("expires")
        ends = parse_datetime(expires, "expires") if expires is not None else None
    except CredentialError as error:
        report.add(FRESHNESS, "fail", error.message)
        return
    _check_signed_when(report, created, ends, now, max_age)


def _claim_time(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialError(
            L_("The JWT claim %(claim)s must be a number of seconds", claim=repr(name))
        )
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise CredentialError(
            L_("The JWT claim %(claim)s is not a time", claim=repr(name))
        ) from error


def _check_jose_freshness(
    report: VerificationReport, claims: Mapping[str, Any], now: datetime, max_age: timedelta
) -> None:
    """``iat`` / ``exp``: when the holder signed, and until when (VC-JOSE-COSE §3.1.3)."""
    try:
        created, ends = _claim_time(claims, "iat"), _claim_time(claims, "exp")
    except CredentialError as error:
        report.add(FRESHNESS, "fail", error.message)
        return
    if created is None:
        no_iat = L_("The JWT has no iat claim: nothing says when it was signed")
        report.add(FRESHNESS, "fail", no_iat)
        return
    _check_signed_when(report, created, ends, now, max_age)


def _check_signed_when(
    report: VerificationReport,
    created: datetime,
    ends: datetime | None,
    now: datetime,
    max_age: timedelta,
) -> None:
    if ends is not None and now > ends:
        expired = L_("The holder's proof expired on %(end)s", end=ends.isoformat())
        report.add(FRESHNESS, "fail", expired)
    elif created - now > CLOCK_SKEW:
        future = L_("Created in the future (%(created)s)", created=created.isoformat())
        report.add(FRESHNESS, "warning", future)
    elif now - created > max_age:
        hours = int((now - created).total_seconds() // 3600)
        stale = L_(
            "Created %(hours)s hours ago (%(created)s): not fresh",
            hours=hours,
            created=created.isoformat(),
        )
        report.add(FRESHNESS, "warning", stale)
    else:
        report.add(FRESHNESS, "pass", L_("Created %(created)s", created=created.isoformat()))


def _check_validity_period(
    report: VerificationReport, presentation: Mapping[str, Any], now: datetime
) -> None:
    """A presentation's own ``validFrom`` / ``validUntil``, when it has them."""
    try:
        start, end = (
            parse_datetime(presentation[name], name) if name in presentation else None
            for name in ("validFrom", "validUntil")
        )
    except CredentialError as error:
        report.add(FRESHNESS, "fail", error.message)
        return
    if start is not None and now + CLOCK_SKEW < start:
        not_yet = L_("The presentation is not valid until %(start)s", start=start.isoformat())
        report.add(FRESHNESS, "fail", not_yet)
    if end is not None and now > end:
        expired = L_("The presentation expired on %(end)s", end=end.isoformat())
        report.add(FRESHNESS, "fail", expired)


def _enveloped_text(item: Mapping[str, Any]) -> str:
    """The JWT inside an EnvelopedVerifiableCredential's ``data:`` URL."""
    url = item.get("id")
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise CredentialError(L_("An enveloped credential's id must be a data: URL"))
    header, _, data = url.partition(",")
    if header.endswith(";base64"):
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise CredentialError(
                L_("An enveloped credential's data is not base64 text")
            ) from error
    return unquote(data)


def _check_credentials(
    report: VerificationReport, presentation: Mapping[str, Any], verify_embedded: EmbeddedVerifier
) -> None:
    found = presentation.get("verifiableCredential")
    items = [] if found is None else found if isinstance(found, list) else [found]
    if not items:
        report.add(CREDENTIALS, "warning", L_("The presentation carries no credentials"))
    for index, item in enumerate(items, 1):
        label = f"credential {index}"
        try:
            if not isinstance(item, Mapping):
                raise CredentialError(L_("Not a credential: expected a JSON object"))
            types = item.get("type")
            enveloped = ENVELOPED_CREDENTIAL in (types if isinstance(types, list) else [types])
            embedded = verify_embedded(_enveloped_text(item) if enveloped else item)
        except CredentialError as error:
            report.add(label, "fail", error.message)
            continue
        report.embedded.append(embedded)
        report.checks.extend(
            Check(f"{label} · {check.name}", check.status, check.reason)
            for check in embedded.checks
        )


@contextmanager
def _failing_as(report: VerificationReport, what: str) -> Iterator[None]:
    """Malformed input met while checking ``what`` (a credential or a presentation) becomes one
    failed check naming it, never an exception."""
    try:
        yield
    except (CredentialError, TypeError, ValueError, AttributeError, KeyError) as error:
        reason = (
            error.message
            if isinstance(error, CredentialError)
            else L_("Malformed presentation: %(error)s", error=error)
            if what == "presentation"
            else L_("Malformed credential: %(error)s", error=error)
        )
        report.add(what, "fail", reason)
    except RecursionError:
        too_deep = (
            L_("The presentation is nested too deeply to process")
            if what == "presentation"
            else L_("The credential is nested too deeply to process")
        )
        report.add(what, "fail", too_deep)


def _verify_presentation(
    report: VerificationReport,
    parsed: _Parsed,
    *,
    resolver: KeyResolver,
    verify_embedded: EmbeddedVerifier,
    challenge: str | None,
    domain: str | None,
    now: datetime,
    max_age: timedelta,
) -> VerificationReport:
    report.kind = "presentation"
    why_not = _not_a_presentation(parsed)
    if why_not is not None:
        report.add(PARSE, "fail", why_not)
        return report
    presentation, jwt = parsed.credential, parsed.jwt
    read = (
        L_("Read a presentation secured as a JWT (%(type)s)", type=VP_JWT_TYPE)
        if jwt is not None
        else L_("Read a presentation (%(source)s)", source=report.source)
    )
    report.add(PARSE, "pass", read)
    with _failing_as(report, "presentation"):
        _check_context(report, presentation)
        if jwt is not None:
            if _check_jose_holder_proof(report, jwt, presentation, resolver):
                claims = jwt.payload
                bound = {CHALLENGE: claims.get("nonce"), DOMAIN: claims.get("aud")}
                _check_binding(report, [bound], challenge, domain)
                _check_jose_freshness(report, claims, now, max_age)
        else:
            held = _check_holder_proof(report, presentation, resolver)
            if held:
                _check_binding(report, held, challenge, domain)
                _check_freshness(report, held[0], now, max_age)
        _check_validity_period(report, presentation, now)
        _check_credentials(report, presentation, verify_embedded)
    return report


def verify_presentation(
    source: Source,
    *,
    resolver: KeyResolver,
    verify_embedded: EmbeddedVerifier,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    max_age: timedelta = PRESENTATION_MAX_AGE,
) -> VerificationReport:
    """Check a Verifiable Presentation: its holder's proof (``challenge`` and ``domain`` when the
    verifier gives them) and, through ``verify_embedded``, every credential it carries."""
    report = VerificationReport()
    parsed = _read(report, source)
    if parsed is None:
        return report
    return _verify_presentation(
        report,
        parsed,
        resolver=resolver,
        verify_embedded=verify_embedded,
        challenge=challenge,
        domain=domain,
        now=now or datetime.now(UTC),
        max_age=max_age,
    )


def verify_credential(
    source: Source,
    *,
    resolver: KeyResolver,
    status_checker: StatusChecker | None = None,
    known_issuer: IssuerLookup | None = None,
    now: datetime | None = None,
    prepare: Callable[[Mapping[str, Any]], bytes | None] | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    verify_embedded: EmbeddedVerifier | None = None,
    presentations: bool = True,
    verify_endorsement: EmbeddedVerifier | None = None,
    endorsements: bool = True,
) -> VerificationReport:
    """Check everything a relying party should; see the module docstring.

    ``prepare`` sees the parsed credential before any check (a caller may batch its look-ups);
    it may return the SHA-256 of the credential's JCS form without proofs, which an
    ``eddsa-jcs-2022`` proof check then need not compute again.

    A presentation is checked by :func:`verify_presentation` (``challenge``, ``domain``), its
    credentials by ``verify_embedded`` (by default this function with the same look-ups);
    ``presentations=False`` refuses one (a credential inside a presentation).

    Endorsements embedded in the credential are checked by ``verify_endorsement`` (by default
    this function with the same look-ups, without looking further into their own endorsements);
    ``endorsements=False`` leaves them out.
    """
    report = VerificationReport()
    parsed = _read(report, source)
    if parsed is None:
        return report

    def embedded(item: Source, endorsements: bool = True) -> VerificationReport:
        """A credential inside this one (a presentation's, an endorsement): the same look-ups."""
        return verify_credential(
            item,
            resolver=resolver,
            status_checker=status_checker,
            known_issuer=known_issuer,
            now=now,
            presentations=False,
            endorsements=endorsements,
        )

    if _secures_presentation(parsed):
        if not presentations:
            report.add(PARSE, "fail", L_("A presentation, where a credential was expected"))
            return report
        return _verify_presentation(
            report,
            parsed,
            resolver=resolver,
            verify_embedded=verify_embedded or embedded,
            challenge=challenge,
            domain=domain,
            now=now or datetime.now(UTC),
            max_age=PRESENTATION_MAX_AGE,
        )
    report.add(PARSE, "pass", L_("Read a credential (%(source)s)", source=parsed.source))
    with _failing_as(report, "credential"):
        digest = prepare(parsed.credential) if prepare is not None else None
        report.jcs_digest = digest
        _check_context(report, parsed.credential)
        _check_schema(report, parsed.credential)
        _check_proofs(report, parsed, resolver, digest)
        _check_validity(report, parsed, now or datetime.now(UTC))
        _check_status(report, parsed.credential, status_checker)
        _check_issuer(report, parsed.credential, known_issuer)
        if endorsements:
            verify = verify_endorsement or partial(embedded, endorsements=False)
            _check_endorsements(report, parsed.credential, verify)
    return report


def status_list_proof_failure(document: Mapping[str, Any], resolver: KeyResolver) -> str | None:
    """For :class:`BitstringStatusChecker`: why a status list's proof fails, None if it holds."""
    results = verify_proofs(document, resolver)
    if any(result.verified for result in results):
        return None
    if not results:
        return L_("the status list credential has no proof")
    return Joined("; ", (result.reason for result in results))

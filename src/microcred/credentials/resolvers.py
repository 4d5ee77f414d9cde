"""Production resolvers for verification, and the verification service the web and CLI call.

Anything this server publishes (its issuers' DID documents, its status lists) is answered from
the database, never over the network: a verifier here sees a revocation the moment it commits.
Anything else goes over httpx with a short time-out and a size cap, or not at all when remote
look-ups are disabled (tests, air-gapped installs).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.caching import short_text_cache
from microcred.credentials.dids import DidResolver, JsonFetcher, KeyResolver, http_json_fetcher
from microcred.credentials.documents import issuer_id
from microcred.credentials.errors import CredentialError
from microcred.credentials.keystore import did_document_for_slug, issuer_did
from microcred.credentials.models import IssuerKey, StatusList
from microcred.credentials.proofs import jcs
from microcred.credentials.service import credential_hash
from microcred.credentials.status.bitstring import BitstringStatusChecker
from microcred.credentials.statuslists import status_list_document
from microcred.credentials.verify import (
    Check,
    IssuerLookup,
    KnownIssuer,
    Source,
    VerificationReport,
    status_list_proof_failure,
    verify_credential,
)
from microcred.db.prepared import DriverReads, PreparedRead
from microcred.errors import MicrocredError
from microcred.i18n import L_
from microcred.ledger.errors import LedgerError
from microcred.ledger.service import (
    LATEST_TREE_SIZE,
    LEAF_COLUMNS,
    CredentialLeaves,
    credential_leaves,
    ledger_entries_for_credential,
)
from microcred.settings import Settings

REMOTE_TIMEOUT_SECONDS = 3.0
_DID_PATH = re.compile(r"^/issuers/(?P<slug>[a-z0-9-]+)/did\.json$")
_STATUS_PATH = re.compile(r"^/status/(?P<list_id>[0-9a-f]{32})$")
_OUR_DID = re.compile(r"^did:web:(?P<host>[^:]+):issuers:(?P<slug>[a-z0-9-]+)$")


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True)
class IssuerRecord:
    """An issuer organisation with the version of its key set: the DID document changes only
    when a key is added (keys are retired, never removed), so (organisation, key count, newest
    key) identifies one document across processes."""

    organisation_id: str
    slug: str
    name: str
    key_count: int
    newest_key: datetime | None


_ORGANISATIONS = Organisation.__table__.c
_KEYS = IssuerKey.__table__.c
_STATUS_LISTS = StatusList.__table__.c


def _issuer_query(*extra: Any) -> PreparedRead:
    return PreparedRead(
        select(
            _ORGANISATIONS.id,
            _ORGANISATIONS.name,
            func.count(_KEYS.id),
            func.max(_KEYS.created_at),
            *extra,
        )
        .select_from(Organisation.__table__)
        .outerjoin(IssuerKey.__table__, _KEYS.organisation_id == _ORGANISATIONS.id)
        .where(_ORGANISATIONS.slug == bindparam("slug"))
        .group_by(_ORGANISATIONS.id, _ORGANISATIONS.name)
    )


# Built once: verification runs these for every credential, on the driver's cursor.
_STATUS_REVISION_OF = select(_STATUS_LISTS.revision).where(_STATUS_LISTS.id == bindparam("list_id"))
_ISSUER_RECORD = _issuer_query()
_STATUS_REVISION = PreparedRead(_STATUS_REVISION_OF)
_STATUS_DOCUMENT = PreparedRead(
    select(_STATUS_LISTS.revision, _STATUS_LISTS.signed_credential).where(
        _STATUS_LISTS.id == bindparam("list_id")
    )
)
_KEYS_OF_ORGANISATION = select(func.count(_KEYS.id)).where(
    _KEYS.organisation_id == _ORGANISATIONS.id
)
_VERIFICATION_CONTEXT = PreparedRead(
    select(
        _ORGANISATIONS.id,
        _ORGANISATIONS.name,
        _KEYS_OF_ORGANISATION.scalar_subquery(),
        _KEYS_OF_ORGANISATION.with_only_columns(func.max(_KEYS.created_at)).scalar_subquery(),
        _STATUS_REVISION_OF.scalar_subquery(),
        LATEST_TREE_SIZE,
        LEAF_COLUMNS.leaf_index,
        LEAF_COLUMNS.event,
        LEAF_COLUMNS.issuer_id,
        LEAF_COLUMNS.recorded_at,
    )
    .select_from(Organisation.__table__)
    .outerjoin(
        LEAF_COLUMNS.credential_hash.table,
        LEAF_COLUMNS.credential_hash == bindparam("credential_hash"),
    )
    .where(_ORGANISATIONS.slug == bindparam("slug"))
)
"""Everything a credential of ours needs from the database, in one query: its issuer with the
key set's version, its status list's revision, and its ledger leaves (a row per leaf)."""


def _issuer(slug: str, row: Sequence[Any] | None) -> IssuerRecord | None:
    return None if row is None else IssuerRecord(row[0], slug, row[1], int(row[2]), row[3])


def issuer_record(session: Session, slug: str) -> IssuerRecord | None:
    """One indexed query: the organisation with this slug and its key set's version."""
    return _issuer(slug, _ISSUER_RECORD.first(session, {"slug": slug}))


@dataclass(frozen=True)
class VerificationContext:
    """What :data:`_VERIFICATION_CONTEXT` read for one credential (None: the issuer is unknown)."""

    issuer: IssuerRecord
    status_revision: int | None
    leaves: CredentialLeaves


def verification_context(
    reads: Session | DriverReads, slug: str, list_id: str, credential_hash: bytes
) -> VerificationContext | None:
    rows = _VERIFICATION_CONTEXT.all(
        reads, {"slug": slug, "list_id": list_id, "credential_hash": credential_hash}
    )
    issuer = _issuer(slug, rows[0] if rows else None)
    if issuer is None:
        return None
    leaves = [row[6:] for row in rows if row[6] is not None]
    return VerificationContext(
        issuer, rows[0][4], credential_leaves(credential_hash, leaves, rows[0][5])
    )


_CACHE_SIZE = 256
_DID_DOCUMENTS: OrderedDict[tuple[str, str], tuple[IssuerRecord, bytes]] = OrderedDict()
_STATUS_DOCUMENTS: OrderedDict[str, tuple[int, dict[str, Any], bytes]] = OrderedDict()


_CACHE_LOCK = threading.Lock()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Store the newest entry and evict the oldest (web workers verify on several threads)."""
    with _CACHE_LOCK:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def cached_did_document(session: Session, record: IssuerRecord, base_url: str) -> dict[str, Any]:
    """The issuer's DID document, rebuilt only when its key set's version changed (a rotation
    in any process changes the count and the newest key, so every process sees it at once)."""
    cache_key = (base_url, record.slug)
    cached = _DID_DOCUMENTS.get(cache_key)
    if cached is None or cached[0] != record:
        text = orjson.dumps(did_document_for_slug(session, record.slug, base_url))
        cached = (record, text)
        _remember(_DID_DOCUMENTS, cache_key, cached)
    fresh: dict[str, Any] = orjson.loads(cached[1])  # a copy the caller may change
    return fresh


_UNREAD = -1


def _jcs_digest(document: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(jcs.canonicalize(dict(document))).digest()


def cached_status_list(
    reads: Session | DriverReads, list_id: str, settings: Settings, revision: int | None = _UNREAD
) -> tuple[dict[str, Any], bytes]:
    """The signed status list (a copy) and the SHA-256 of its JCS form, re-read only when its
    revision moved: every change of a bit increments the revision in the same transaction, so a
    revocation is visible at once. ``revision``: the current one, when the caller read it."""
    if revision == _UNREAD:
        current = _STATUS_REVISION.first(reads, {"list_id": list_id})
        revision = None if current is None else current[0]
    cached = _STATUS_DOCUMENTS.get(list_id)
    if cached is not None and revision is not None and cached[0] == revision:
        return dict(cached[1]), cached[2]
    row = _STATUS_DOCUMENT.first(reads, {"list_id": list_id})
    if row is None or row[1] is None:  # unknown (NotFound) or not signed yet: the slow path
        session = reads.session if isinstance(reads, DriverReads) else reads
        document = status_list_document(session, list_id, settings)
        return document, _jcs_digest(document)
    digest = _jcs_digest(row[1])
    _remember(_STATUS_DOCUMENTS, list_id, (row[0], row[1], digest))
    return dict(row[1]), digest


def cached_status_list_document(
    session: Session, list_id: str, settings: Settings
) -> dict[str, Any]:
    """:func:`cached_status_list` without the digest."""
    return cached_status_list(session, list_id, settings)[0]


class ServerFetcher:
    """A :data:`JsonFetcher` that answers this server's own URLs from the database.

    It remembers what it answered, and after :meth:`expect` reads all a credential of ours needs
    (issuer, status list revision, ledger leaves) in one query, on one cursor (:meth:`close`).
    """

    def __init__(
        self, session: Session, settings: Settings, remote: JsonFetcher | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.remote = remote
        self.own_host = _host(settings.base_url)
        self.reads = DriverReads(session)
        self._answered: dict[str, dict[str, Any]] = {}
        self._issuers: dict[str, IssuerRecord | None] = {}
        self._expected: tuple[str, str, bytes] | None = None
        self._revisions: dict[str, int | None] = {}
        self._leaves: dict[bytes, CredentialLeaves] = {}
        self._digests: dict[int, tuple[dict[str, Any], bytes]] = {}

    def expect(self, credential: Mapping[str, Any]) -> bytes | None:
        """Note the issuer of ours that ``credential`` names, its status list on this server
        and its ledger hash, so that the first look-up reads them all; returns that hash (the
        SHA-256 of its JCS form without proofs) when the issuer is ours."""
        identifier = issuer_id(credential)
        slug = _our_issuer_slug(identifier, self.own_host) if identifier else None
        if slug is None:
            return None
        list_id = ""  # no such list: the query then reads no revision
        status = credential.get("credentialStatus")
        for entry in status if isinstance(status, list) else [status]:
            url = entry.get("statusListCredential") if isinstance(entry, Mapping) else None
            if not isinstance(url, str) or _host(url) != self.own_host:
                continue
            if match := _STATUS_PATH.match(urlsplit(url).path):
                list_id = match["list_id"]
                break
        try:
            digest = credential_hash(credential)
        except (CredentialError, TypeError, ValueError, RecursionError):
            return None  # the checks will say what is wrong with it
        self._expected = (slug, list_id, digest)
        return digest

    def issuer(self, slug: str) -> IssuerRecord | None:
        """The issuer with this slug, looked up once per verification."""
        if slug not in self._issuers:
            expected = self._expected
            if expected is not None and expected[0] == slug:
                context = verification_context(self.reads, *expected)
                record = context.issuer if context else None
                if context is not None:
                    if expected[1]:
                        self._revisions[expected[1]] = context.status_revision
                    self._leaves[expected[2]] = context.leaves
            else:
                record = issuer_record(self.session, slug)
            self._issuers[slug] = record
        return self._issuers[slug]

    def ledger_leaves(self, credential_hash: bytes) -> CredentialLeaves | None:
        """The credential's ledger leaves, if :meth:`issuer` already read them."""
        return self._leaves.get(credential_hash)

    def close(self) -> None:
        """Release the cursor (before the session's transaction ends)."""
        self.reads.close()

    def __call__(self, url: str) -> dict[str, Any]:
        if _host(url) == self.own_host:
            path = urlsplit(url).path
            if path not in self._answered:  # a credential and its status list share a DID
                self._answered[path] = self._local(path)
            return self._answered[path]
        if self.remote is None:
            raise CredentialError(f"Cannot look up {url}: remote look-ups are disabled")
        return self.remote(url)

    def _local(self, path: str) -> dict[str, Any]:
        try:
            if match := _DID_PATH.match(path):
                record = self.issuer(match["slug"])
                if record is None:
                    raise CredentialError(f"No organisation '{match['slug']}'.")
                return cached_did_document(self.session, record, self.settings.base_url)
            if match := _STATUS_PATH.match(path):
                list_id = match["list_id"]
                revision = self._revisions.pop(list_id, _UNREAD)
                document, digest = cached_status_list(self.reads, list_id, self.settings, revision)
                self._digests[id(document)] = (document, digest)
                return document
        except CredentialError:
            raise
        except MicrocredError as error:
            raise CredentialError(error.message) from error
        raise CredentialError(f"This server publishes nothing at {path}")

    def status_list_proof_failure(
        self, document: Mapping[str, Any], resolver: KeyResolver
    ) -> str | None:
        """:func:`cached_status_list_proof_failure`, with the digest of a list this fetcher
        served (unchanged: the same object) taken from the cache instead of recomputed."""
        served = self._digests.get(id(document))
        digest = served[1] if served is not None and served[0] is document else None
        return cached_status_list_proof_failure(document, resolver, digest)


@short_text_cache(maxsize=1024)
def _our_issuer_slug(identifier: str, own_host: str) -> str | None:
    """The slug of the issuer ``identifier`` names on this server (its did:web or profile URL)."""
    if match := _OUR_DID.match(identifier):
        return match["slug"] if unquote(match["host"]).lower() == own_host else None
    if _host(identifier) == own_host and identifier.count("/issuers/") == 1:
        return identifier.rsplit("/issuers/", 1)[1].strip("/") or None
    return None


_issuer_did = lru_cache(maxsize=1024)(issuer_did)


def known_issuer_lookup(
    session: Session, settings: Settings, fetcher: ServerFetcher | None = None
) -> IssuerLookup:
    """An :data:`IssuerLookup`: our issuers by their did:web (or their profile URL)."""
    own_host = _host(settings.base_url)
    issuers = fetcher or ServerFetcher(session, settings)

    def lookup(identifier: str) -> KnownIssuer | None:
        slug = _our_issuer_slug(identifier, own_host)
        if slug is None:
            return None
        record = issuers.issuer(slug)
        if record is None:
            return None
        return KnownIssuer(
            _issuer_did(settings.base_url, record.slug),
            record.name,
            f"{settings.base_url.rstrip('/')}/issuers/{record.slug}",
        )

    return lookup


_VERIFIED_LISTS: OrderedDict[bytes, str | None] = OrderedDict()
_VERIFIED_LISTS_SIZE = 256


def cached_status_list_proof_failure(
    document: Mapping[str, Any], resolver: KeyResolver, digest: bytes | None = None
) -> str | None:
    """:func:`status_list_proof_failure`, remembered per exact document (by its JCS hash): a
    status list changes rarely and is checked by every verification that names it.
    ``digest``: that hash, when the caller has it."""
    digest = digest or _jcs_digest(document)
    if digest in _VERIFIED_LISTS:
        _VERIFIED_LISTS.move_to_end(digest)
        return _VERIFIED_LISTS[digest]
    failure = status_list_proof_failure(document, resolver)
    _VERIFIED_LISTS[digest] = failure
    while len(_VERIFIED_LISTS) > _VERIFIED_LISTS_SIZE:
        _VERIFIED_LISTS.popitem(last=False)
    return failure


def verification_fetcher(
    session: Session, settings: Settings, *, allow_remote: bool = True
) -> ServerFetcher:
    remote = (
        http_json_fetcher(
            timeout=REMOTE_TIMEOUT_SECONDS, allow_private=settings.fetch_private_addresses
        )
        if allow_remote
        else None
    )
    return ServerFetcher(session, settings, remote)


def _ledger_checks(
    session: Session,
    credential: Mapping[str, Any],
    digest: bytes | None = None,
    fetcher: ServerFetcher | None = None,
) -> list[Check]:
    """The ledger's verdict on the credential's recorded events (issuance, revocation …).

    ``digest``: the credential hash when the proof check already computed it; ``fetcher``: the
    verification's, which may have read the leaves already."""
    try:
        digest = digest or credential_hash(credential)
        known = fetcher.ledger_leaves(digest) if fetcher else None
        entries = ledger_entries_for_credential(session, digest, known=known)
    except (LedgerError, CredentialError, TypeError, ValueError):
        return []
    return [
        Check(
            check.name,
            check.status,
            L_("%(event)s: %(reason)s", event=entry.leaf.event.value, reason=check.reason),
        )
        for entry in entries
        for check in entry.checks
    ]


def verify(
    session: Session,
    source: bytes | str | Mapping[str, Any],
    settings: Settings,
    *,
    allow_remote: bool = True,
    fetcher: JsonFetcher | None = None,
    now: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
) -> VerificationReport:
    """Every check of :func:`verify_credential`, with this server's resolvers, plus the ledger;
    a presentation's credentials each get all of them (``challenge``, ``domain``: what the
    verifier expects a presentation's holder to have signed)."""
    fetch = fetcher or verification_fetcher(session, settings, allow_remote=allow_remote)
    resolver = DidResolver(fetch_json=fetch)
    ours = fetch if isinstance(fetch, ServerFetcher) else None
    status_checker = BitstringStatusChecker(
        fetch,
        resolver=resolver,
        verify_proof=ours.status_list_proof_failure if ours else cached_status_list_proof_failure,
    )
    known_issuer = known_issuer_lookup(session, settings, ours)

    def check(item: Source, presentations: bool = False) -> VerificationReport:
        report = verify_credential(
            item,
            resolver=resolver,
            status_checker=status_checker,
            known_issuer=known_issuer,
            now=now,
            prepare=ours.expect if ours else None,
            challenge=challenge,
            domain=domain,
            verify_embedded=check,
            presentations=presentations,
        )
        if report.credential is not None and report.kind == "credential":
            report.checks.extend(
                _ledger_checks(session, report.credential, report.jcs_digest, ours)
            )
        return report

    try:
        return check(source, presentations=True)
    finally:
        if ours is not None:
            ours.close()

"""Batch verification: many credentials at once, one row per item, for an employer screening
applicants, an admissions officer, a registrar.

Input is any mix of files (anything the single verification reads: JSON, a compact JWT, a
presentation, a baked PNG/SVG, a PDF with an embedded credential), ZIP archives of such files, and
references — URLs of credentials on this server (answered from the database, never over HTTP to
ourselves) or on other servers (fetched through the same guarded fetcher as remote look-ups: its
time-out, size cap and SSRF guard). Each item is checked by :func:`resolvers.verify`, exactly as
``POST /api/v1/verify`` checks one.

Limits (each a :class:`BatchLimitExceeded` naming it): :data:`MAX_ITEMS` items,
:data:`MAX_BATCH_BYTES` bytes of items (a ZIP counted as what it unpacks to). A ZIP is walked
safely: its entries are counted with the items, an entry with an unsafe path (absolute, ``..``, a
drive), an archive inside it, an encrypted entry, or an archive that would unpack past the bytes
limit are refused with the reason as unreadable rows; the rest of the batch goes on.

Time: what the checks will fetch from other servers (remote references, then each credential's
issuer DID document, keys and status lists) is fetched ahead, :data:`REMOTE_WORKERS` hosts at a
time (:meth:`BatchFetcher.prefetch`); then items are checked one after another on the caller's
session, finding those answers remembered. Each fetch has the fetcher's own time-out
(:data:`resolvers.REMOTE_TIMEOUT_SECONDS`); within a batch each URL is fetched once and a host
that did not answer is not asked again, so one slow issuer costs one time-out, not one per
credential. After ``time_budget`` seconds, the items not yet checked are reported ``not
checked`` ("time budget"), so a batch always ends.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import AuditEvent
from microcred.accounts.service import Principal, record_audit
from microcred.credentials.dids import JsonFetcher, did_web_to_url, http_json_fetcher
from microcred.credentials.documents import identity_matches
from microcred.credentials.errors import CredentialError
from microcred.credentials.models import VerificationBatch, VerificationBatchState
from microcred.credentials.proofs.jwt import decode_jwt, looks_like_jwt
from microcred.credentials.resolvers import REMOTE_TIMEOUT_SECONDS, ServerFetcher, verify
from microcred.credentials.verify import (
    PARSE,
    STATUS,
    Check,
    Source,
    VerificationReport,
    nested_too_deeply,
)
from microcred.db.base import utcnow
from microcred.errors import MicrocredError, PermissionDenied
from microcred.settings import Settings
from microcred.spreadsheet import NotText, decode_text, safe_writer, sniff_delimiter

log = logging.getLogger(__name__)

MAX_ITEMS = 500
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_REFERENCE_LENGTH = 2000
MAX_APPLICANTS_BYTES = 2 * 1024 * 1024
DEFAULT_TIME_BUDGET = 120.0
"""Seconds a batch may spend checking; later items are reported ``not checked``."""
MAX_BATCHES_PER_HOUR = 20
REMOTE_WORKERS = 8
"""Hosts asked at once when a batch fetches ahead."""
BATCH_WINDOW = timedelta(hours=1)
BATCH_VERIFIED = "credentials.batch_verified"
VERIFY_SCOPE = "credentials:verify"

Verdict = Literal["valid", "invalid", "unreadable", "not checked"]
VERDICTS: tuple[Verdict, ...] = ("valid", "invalid", "unreadable", "not checked")
Match = Literal["yes", "no", "cannot tell"]

_ARCHIVE_SUFFIXES = (".zip", ".jar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh")
_CREDENTIAL_PATH = re.compile(
    r"^/credentials/(?P<id>[0-9a-f]{32})(?:/(?:credential\.json|credential\.jwt|badge\.png|"
    r"badge\.svg))?/?$"
)


class BatchError(CredentialError):
    """A batch that cannot be read at all (its applicants file, a malformed item list)."""


class BatchLimitExceeded(BatchError):
    status_code = 413


class BatchThrottled(BatchError):
    status_code = 429


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchItem:
    """One thing to verify: its bytes, text or document, or a URL; ``problem``: why it was
    refused before verification (it becomes an unreadable row)."""

    name: str
    data: Source | None = None
    url: str | None = None
    problem: str | None = None


def _is_archive(name: str, data: bytes) -> bool:
    return name.lower().endswith(_ARCHIVE_SUFFIXES) or data.startswith(_ARCHIVE_MAGIC)


def _unsafe_path(path: str) -> str | None:
    """Why a ZIP entry's path is not a plain relative path (None when it is)."""
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "an absolute path"
    if "\\" in path:
        return "a backslash in its path"
    if any(part == ".." for part in path.split("/")):
        return "'..' in its path"
    if "\x00" in path:
        return "a NUL character in its path"
    return None


def _skipped(path: str) -> bool:
    """Folders and what archivers add on their own (macOS resource forks, dot files)."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    return path.endswith("/") or path.startswith("__MACOSX/") or base.startswith(".")


@dataclass
class BatchInput:
    """The items of one batch, in input order, with the limits enforced as they are added."""

    max_items: int = field(default_factory=lambda: MAX_ITEMS)
    max_bytes: int = field(default_factory=lambda: MAX_BATCH_BYTES)
    items: list[BatchItem] = field(default_factory=list)
    size: int = 0

    def _add(self, item: BatchItem, size: int = 0) -> None:
        if len(self.items) >= self.max_items:
            raise BatchLimitExceeded(
                f"A batch holds at most {self.max_items} items (files, ZIP entries and "
                "references together); split it into several batches."
            )
        if self.size + size > self.max_bytes:
            raise BatchLimitExceeded(
                f"A batch holds at most {self.max_bytes} bytes of credentials (a ZIP counted "
                f"unpacked); '{item.name}' goes past it. Split it into several batches."
            )
        self.size += size
        self.items.append(item)

    def add_file(self, name: str, data: bytes) -> None:
        """A file: one item, or a ZIP's entries."""
        if data.startswith(b"PK\x03\x04") or name.lower().endswith(".zip"):
            self.add_zip(name, data)
        else:
            self._add(BatchItem(name, data), len(data))

    def add_document(self, name: str, document: Source) -> None:
        size = len(document) if isinstance(document, str | bytes) else 0
        self._add(BatchItem(name, document), size)

    def add_refused(self, name: str, problem: str) -> None:
        self._add(BatchItem(name, problem=problem))

    def add_zip(self, name: str, data: bytes) -> None:
        """A ZIP's files as items named ``archive.zip/path``; see the module for what is refused."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            entries = [info for info in archive.infolist() if not _skipped(info.filename)]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
            self.add_refused(name, f"Not a readable ZIP archive: {error}")
            return
        if len(self.items) + len(entries) > self.max_items:
            raise BatchLimitExceeded(
                f"'{name}' holds {len(entries)} files: a batch holds at most {self.max_items} "
                "items (files, ZIP entries and references together)."
            )
        declared = sum(info.file_size for info in entries)
        if self.size + declared > self.max_bytes:
            self.add_refused(
                name,
                f"Refused: the archive would unpack to {declared} bytes, past the batch's limit "
                f"of {self.max_bytes} bytes",
            )
            return
        for info in entries:
            self._add_entry(name, archive, info)

    def _add_entry(self, name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        label = f"{name}/{info.filename}"
        unsafe = _unsafe_path(info.filename)
        if unsafe is not None:
            self.add_refused(label, f"Refused: the ZIP entry has {unsafe}")
            return
        if info.flag_bits & 0x1:
            self.add_refused(label, "Refused: the ZIP entry is encrypted")
            return
        room = self.max_bytes - self.size
        try:
            with archive.open(info) as stream:
                content = stream.read(room + 1)  # never more than the limit, whatever it claims
        except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError) as error:
            self.add_refused(label, f"Cannot unpack the ZIP entry: {error}")
            return
        if len(content) > room:
            self.add_refused(
                label,
                f"Refused: the ZIP entry unpacks past the batch's limit of {self.max_bytes} bytes "
                "(it claims less than it holds)",
            )
        elif _is_archive(info.filename, content):
            self.add_refused(label, "Refused: an archive inside the archive (unpack it first)")
        else:
            self._add(BatchItem(label, content), len(content))

    def add_references(self, text: str) -> None:
        """One URL a line; blank lines and lines starting with ``#`` are skipped."""
        for line in text.splitlines():
            reference = line.strip()
            if not reference or reference.startswith("#"):
                continue
            self.add_reference(reference)

    def add_reference(self, reference: str) -> None:
        name = reference[:MAX_REFERENCE_LENGTH]
        parts = urlsplit(reference)
        if len(reference) > MAX_REFERENCE_LENGTH:
            self.add_refused(
                name, f"The reference is longer than {MAX_REFERENCE_LENGTH} characters"
            )
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            self.add_refused(name, "Not a reference: expected an http(s) URL")
        else:
            self._add(BatchItem(name, url=reference), len(reference))

    def add_json_item(self, position: int, item: Mapping[str, Any]) -> None:
        """An API item ``{"name", "credential" | "jwt" | "url"}``."""
        given = [key for key in ("credential", "jwt", "url") if item.get(key) is not None]
        name = str(item.get("name") or f"item {position}")[:MAX_REFERENCE_LENGTH]
        if len(given) != 1:
            raise BatchError(
                f"Item {position} ('{name}') needs exactly one of 'credential', 'jwt' or 'url'",
                field=f"items.{position}",
            )
        value = item[given[0]]
        if given[0] == "url":
            if not isinstance(value, str):
                raise BatchError(f"Item {position}: 'url' must be a string", field="items")
            before = len(self.items)
            self.add_reference(value)
            added = self.items[before]
            self.items[before] = BatchItem(name, url=added.url, problem=added.problem)
        elif isinstance(value, Mapping | str):
            self.add_document(name, value)
        else:
            raise BatchError(
                f"Item {position}: '{given[0]}' must be a JSON object or a string", field="items"
            )


# --- applicants -----------------------------------------------------------------------------

_ITEM_COLUMNS = ("item", "file", "url", "credential", "reference", "id")
_EMAIL_COLUMNS = ("email", "e-mail", "applicant email", "applicant e-mail", "mail")
_NAME_COLUMNS = ("name", "applicant", "applicant name", "full name")


@dataclass(frozen=True)
class Applicant:
    email: str
    name: str = ""


def _key(text: str) -> str:
    return text.strip().lower()


def _column(header: list[str], names: Sequence[str]) -> int | None:
    lowered = [_key(cell) for cell in header]
    return next((lowered.index(name) for name in names if name in lowered), None)


def read_applicants(data: bytes) -> dict[str, Applicant]:
    """An applicants CSV (columns ``item`` — a file name, ZIP path, URL or credential id —,
    ``email`` and optionally ``name``) as a map from the item's key to the applicant."""
    if len(data) > MAX_APPLICANTS_BYTES:
        raise BatchLimitExceeded(
            f"The applicants file is larger than {MAX_APPLICANTS_BYTES} bytes", field="applicants"
        )
    try:
        text = decode_text(data)
    except NotText as error:
        raise BatchError(f"The applicants file: {error}", field="applicants") from None
    known = {*_ITEM_COLUMNS, *_EMAIL_COLUMNS, *_NAME_COLUMNS}
    delimiter = sniff_delimiter(text, lambda cell: _key(cell) in known)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        message = f"The applicants file is not a readable CSV: {error}"
        raise BatchError(message, field="applicants") from None
    if not rows:
        raise BatchError("The applicants file is empty", field="applicants")
    item, email, name = (
        _column(rows[0], names) for names in (_ITEM_COLUMNS, _EMAIL_COLUMNS, _NAME_COLUMNS)
    )
    if item is None or email is None:
        raise BatchError(
            "The applicants file needs a header with an 'item' column (the file name, ZIP path, "
            "URL or credential id) and an 'email' column (and optionally 'name')",
            field="applicants",
        )
    applicants: dict[str, Applicant] = {}
    for line, row in enumerate(rows[1:], 2):
        if any(cell.strip() for cell in row):
            cells = row + [""] * (len(rows[0]) - len(row))
            given = cells[name] if name is not None else ""
            _add_applicant(applicants, f"line {line}", cells[item], cells[email], given)
    return applicants


def _add_applicant(
    applicants: dict[str, Applicant], where: str, item: Any, email: Any, name: Any
) -> None:
    address = email.strip() if isinstance(email, str) else ""
    if address.count("@") != 1 or address.startswith("@") or address.endswith("@"):
        raise BatchError(
            f"The applicants, {where}: {address or email!r} is not an e-mail address",
            field="applicants",
        )
    key = _key(item) if isinstance(item, str) else ""
    if not key:
        raise BatchError(f"The applicants, {where}: the item is empty", field="applicants")
    applicants[key] = Applicant(address, name.strip() if isinstance(name, str) else "")


def applicants_from_json(entries: Any) -> dict[str, Applicant]:
    """The API's ``applicants``: a list of ``{"item", "email", "name"}``."""
    if not isinstance(entries, list):
        raise BatchError("'applicants' must be a list of {item, email, name}", field="applicants")
    applicants: dict[str, Applicant] = {}
    for position, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping):
            raise BatchError(f"Applicant {position} must be a JSON object", field="applicants")
        where = f"entry {position}"
        _add_applicant(applicants, where, entry.get("item"), entry.get("email"), entry.get("name"))
    return applicants


def applicant_of(
    applicants: Mapping[str, Applicant], name: str, url: str | None, credential_id: str | None
) -> Applicant | None:
    """The applicant a row belongs to: by its name, its file's base name (a file or a ZIP
    entry, not a URL), its URL or the id of the credential it holds (or that id's last path
    segment)."""
    keys = [name, url or "", credential_id or ""]
    if url is None:
        keys.append(name.rsplit("/", 1)[-1])
    if credential_id:
        keys.append(credential_id.rstrip("/").rsplit("/", 1)[-1])
    return next((applicants[_key(k)] for k in keys if k and _key(k) in applicants), None)


def _subject(document: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject if isinstance(subject, Mapping) else {}


def _email_identities(subject: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = subject.get("identifier")
    entries = found if isinstance(found, list) else [found] if isinstance(found, Mapping) else []
    return [
        entry
        for entry in entries
        if isinstance(entry, Mapping)
        and entry.get("identityType", "emailAddress") == "emailAddress"
    ]


def issued_to(document: Mapping[str, Any], email: str) -> Match:
    """Whether the credential's recipient identity is this e-mail address: ``yes`` / ``no``;
    ``cannot tell`` when it names its recipient only by a DID or not at all."""
    subject = _subject(document)
    identities = _email_identities(subject)
    subject_id = subject.get("id")
    if isinstance(subject_id, str) and subject_id.lower().startswith("mailto:"):
        identities.append({"identityHash": subject_id[7:], "hashed": False})
    if not identities:
        return "cannot tell"
    return "yes" if any(identity_matches(entry, email) for entry in identities) else "no"


# --- rows -----------------------------------------------------------------------------------


@dataclass
class BatchRow:
    """One item's outcome; ``problems``: the failing and warning checks with their reasons."""

    index: int
    name: str
    verdict: Verdict
    kind: str = ""
    source: str = ""
    credential_id: str | None = None
    achievement: str | None = None
    issuer_name: str | None = None
    issuer_id: str | None = None
    recipient: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    status: str = ""
    problems: list[Check] = field(default_factory=list)
    duplicate_of: str | None = None
    applicant_email: str | None = None
    applicant_name: str | None = None
    issued_to_applicant: Match | None = None
    url: str | None = None

    @property
    def problem_text(self) -> str:
        return "; ".join(f"{c.status} · {c.name}: {c.reason}" for c in self.problems)


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value else None


def _issuer(document: Mapping[str, Any]) -> tuple[str | None, str | None]:
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        return _text(issuer.get("name")), _text(issuer.get("id"))
    return None, _text(issuer)


def recipient_label(document: Mapping[str, Any]) -> str | None:
    """The recipient as the credential gives them: a name when present, else its identities as
    given (a hashed e-mail stays hashed)."""
    subject = _subject(document)
    if name := _text(subject.get("name")):
        return name
    labels = [_text(subject.get("id"))]
    for identity in _email_identities(subject):
        value = _text(identity.get("identityHash"))
        labels.append(f"hashed e-mail {value}" if identity.get("hashed") and value else value)
    found = [label for label in labels if label]
    return "; ".join(found) if found else None


def _status(report: VerificationReport) -> str:
    """The revocation status in a word: active, revoked, suspended, not revocable, unknown."""
    lines = [c for c in report.checks if c.name == STATUS or c.name.endswith(f"· {STATUS}")]
    for line in lines:
        if line.status == "fail":
            first = line.reason.split(" ", 1)[0].lower()
            return first if first in ("revoked", "suspended") else "unknown"
    if any(line.status == "warning" for line in lines):
        return "not checked"
    if lines and all(line.reason.startswith("No credentialStatus") for line in lines):
        return "not revocable"
    return "active" if lines else ""


def _duplicate_key(document: Mapping[str, Any]) -> str:
    identifier = document.get("id")
    if isinstance(identifier, str) and identifier:
        return f"id:{identifier}"
    try:
        digest = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    except (TypeError, orjson.JSONEncodeError):
        digest = hashlib.sha256(repr(document).encode()).hexdigest()
    return f"sha256:{digest}"


def _details(report: VerificationReport) -> Mapping[str, Any]:
    """The credential a row describes: the one read, or a presentation's first credential."""
    document = report.credential or {}
    if report.kind == "presentation":
        return next((r.credential for r in report.embedded if r.credential), document)
    return document


def build_row(index: int, item: BatchItem, report: VerificationReport) -> BatchRow:
    """A row from one item's report: readable (a credential or a presentation was read) or not."""
    problems = [c for c in report.checks if c.status != "pass"]
    document = report.credential
    if report.failed(PARSE) or document is None:
        return BatchRow(
            index, item.name, "unreadable", source=report.source, problems=problems, url=item.url
        )
    details = _details(report)
    achievement = _subject(details).get("achievement")
    issuer_name, issuer_identifier = _issuer(details)
    return BatchRow(
        index,
        item.name,
        "valid" if report.valid else "invalid",
        kind=report.kind,
        source=report.source,
        credential_id=_text(document.get("id")),
        achievement=_text(achievement.get("name"))
        if isinstance(achievement, Mapping)
        else _text(details.get("name")),
        issuer_name=issuer_name,
        issuer_id=issuer_identifier,
        recipient=recipient_label(details),
        valid_from=_text(details.get("validFrom") or details.get("issuanceDate")),
        valid_until=_text(details.get("validUntil") or details.get("expirationDate")),
        status=_status(report),
        problems=problems,
        url=item.url,
    )


def refused_row(index: int, item: BatchItem, verdict: Verdict, reason: str) -> BatchRow:
    return BatchRow(
        index, item.name, verdict, problems=[Check(PARSE, "fail", reason)], url=item.url
    )


# --- remote look-ups ------------------------------------------------------------------------


def _unreachable(error: CredentialError) -> bool:
    """Whether the host did not answer (a time-out, no name, no connection), as opposed to an
    answer that was wrong (a 404, not JSON, a refused address): only then is it not asked
    again."""
    cause = error.__cause__
    timed_out = "did not answer within" in error.message
    return timed_out or isinstance(cause, httpx.TransportError | OSError)


def remote_fetcher(settings: Settings) -> JsonFetcher:
    """The guarded HTTP fetcher single verification uses (time-out, size cap, SSRF guard)."""
    return http_json_fetcher(
        timeout=REMOTE_TIMEOUT_SECONDS, allow_private=settings.fetch_private_addresses
    )


class BatchFetcher:
    """The remote look-ups of one batch: each URL fetched once (a status list or a DID document
    many credentials share; a failure is remembered too), a host that did not answer not asked
    again, and nothing fetched once the batch's time budget is spent. Thread-safe, so that
    :meth:`prefetch` can ask several hosts at once."""

    def __init__(self, remote: JsonFetcher | None, out_of_time: Callable[[], bool]) -> None:
        self.remote = remote
        self.out_of_time = out_of_time
        self._answers: dict[str, bytes | str] = {}
        """URL → the JSON answered, or why it could not be fetched."""
        self._failed_hosts: dict[str, str] = {}
        self._kept = 0
        self._lock = threading.Lock()

    def __call__(self, url: str) -> dict[str, Any]:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            known, failed = self._answers.get(url), self._failed_hosts.get(host)
        if isinstance(known, bytes):
            document: dict[str, Any] = orjson.loads(known)  # a copy the caller may change
            return document
        if isinstance(known, str):
            raise CredentialError(known)
        if self.remote is None:
            raise CredentialError(f"Cannot look up {url}: remote look-ups are disabled")
        if failed is not None:
            raise CredentialError(
                f"{url} not fetched: {host} failed earlier in this batch ({failed})"
            )
        if self.out_of_time():
            raise CredentialError(f"{url} not fetched: the batch's time budget is spent")
        try:
            document = self.remote(url)
        except CredentialError as error:
            with self._lock:
                self._answers[url] = error.message
                if _unreachable(error):
                    self._failed_hosts[host] = error.message
            raise
        encoded = orjson.dumps(document)
        with self._lock:
            if self._kept + len(encoded) <= MAX_BATCH_BYTES:  # what a batch may hold in memory
                self._answers[url] = encoded
                self._kept += len(encoded)
        return document

    def prefetch(self, urls: Iterable[str], workers: int = REMOTE_WORKERS) -> None:
        """Fetch ``urls`` ahead of the checks: hosts in parallel (at most ``workers``), one
        host's URLs one after another (a host that does not answer costs one time-out)."""
        if self.remote is None:
            return
        by_host: dict[str, list[str]] = {}
        for url in dict.fromkeys(urls):
            by_host.setdefault(urlsplit(url).netloc.lower(), []).append(url)
        if not by_host:
            return

        def fetch_all(host_urls: list[str]) -> None:
            for url in host_urls:
                with suppress(CredentialError):  # remembered: the item's own check reports it
                    self(url)

        with ThreadPoolExecutor(min(workers, len(by_host)), "microcred-batch") as pool:
            list(pool.map(fetch_all, by_host.values()))


def _remote_key_url(reference: Any) -> str | None:
    """Where a DID or a key URL is fetched from (None for did:key and what is not a URL)."""
    if not isinstance(reference, str):
        return None
    if reference.startswith("did:web:"):
        try:
            return did_web_to_url(reference)
        except CredentialError:
            return None
    if reference.startswith(("https://", "http://")):
        return reference.split("#", 1)[0]
    return None


def _as_document(source: Source | dict[str, Any]) -> tuple[Mapping[str, Any], Any] | None:
    """The credential (and a JWT's key id) in a JSON or JWT source, without the checks; None
    for what is neither (images, garbage: their look-ups happen during the checks)."""
    if isinstance(source, Mapping):
        return source, None
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    text = text.strip().lstrip("\ufeff")
    try:
        if text.startswith("{") and not nested_too_deeply(text):
            value = orjson.loads(text)
            return (value, None) if isinstance(value, dict) else None
        if looks_like_jwt(text):
            decoded = decode_jwt(text)
            return decoded.credential, decoded.header.get("kid")
    except (CredentialError, ValueError, TypeError, RecursionError):
        return None
    return None


def look_ups(source: Source | dict[str, Any], own_host: str) -> list[str]:
    """The remote URLs verifying ``source`` will fetch (its issuer's DID document, the proofs'
    keys, its status lists), to fetch them ahead; this server's own are answered locally."""
    found = _as_document(source)
    if found is None:
        return []
    document, kid = found
    issuer = document.get("issuer")
    references = [kid, issuer.get("id") if isinstance(issuer, Mapping) else issuer]
    proofs = document.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, Mapping):
            references.append(proof.get("verificationMethod"))
    status = document.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status]:
        if isinstance(entry, Mapping):
            references.append(entry.get("statusListCredential"))
    urls = [url for url in map(_remote_key_url, references) if url]
    return [url for url in urls if urlsplit(url).netloc.lower() != own_host]


# --- the service ----------------------------------------------------------------------------


@dataclass
class BatchResult:
    rows: list[BatchRow]
    checked_at: datetime
    time_budget: float

    @property
    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = {verdict: 0 for verdict in VERDICTS}
        for row in self.rows:
            counts[row.verdict] += 1
        return {
            **counts,
            "duplicates": sum(1 for r in self.rows if r.duplicate_of),
            "not issued to applicant": sum(1 for r in self.rows if r.issued_to_applicant == "no"),
            "total": len(self.rows),
        }

    @property
    def exit_code(self) -> int:
        """For the CLI: 0 all valid, 1 some invalid, 2 some unreadable or not checked."""
        totals = self.totals
        if totals["unreadable"] or totals["not checked"]:
            return 2
        return 1 if totals["invalid"] else 0


def _local_source(session: Session, url: str, settings: Settings) -> str:
    """A reference to this server: the credential from the database, as its page verifies it."""
    from microcred.credentials import service

    path = urlsplit(url).path
    match = _CREDENTIAL_PATH.match(path)
    if match is None:
        raise CredentialError(f"This server publishes no credential at {path}")
    try:
        credential = service.get_credential(session, match["id"])
    except MicrocredError as error:
        raise CredentialError(error.message) from error
    if path.endswith("credential.json"):
        return service.credential_text(credential)
    if path.endswith("credential.jwt") and credential.jwts:
        return next(iter(credential.jwts.values()))
    return service.preferred_text(credential)


def _remote_url(url: str) -> str:
    """Where a credential on another server is read: a credential page's ``credential.json``
    (the path this software serves it at), any other URL as given (it must answer JSON)."""
    parts = urlsplit(url)
    if re.match(r"^/credentials/[^/]+/?$", parts.path) and not parts.query:
        return url.rstrip("/") + "/credential.json"
    return url


def _source(session: Session, item: BatchItem, settings: Settings, fetch: BatchFetcher) -> Source:
    if item.url is None:
        assert item.data is not None
        return item.data
    own_host = urlsplit(settings.base_url).netloc.lower()
    if urlsplit(item.url).netloc.lower() == own_host:
        return _local_source(session, item.url, settings)
    return fetch(_remote_url(item.url))


def verify_batch(
    session: Session,
    items: Sequence[BatchItem],
    settings: Settings,
    *,
    applicants: Mapping[str, Applicant] | None = None,
    fetch: JsonFetcher | None = None,
    allow_remote: bool = True,
    now: datetime | None = None,
    time_budget: float = DEFAULT_TIME_BUDGET,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[BatchRow], None] | None = None,
) -> BatchResult:
    """Verify every item (see the module); one row per item in input order, never raising for
    an item. ``fetch``: the remote fetcher (default: the guarded HTTP one)."""
    deadline = clock() + time_budget
    out_of_time = lambda: clock() >= deadline  # noqa: E731
    remote = fetch
    if remote is None and allow_remote:
        remote = remote_fetcher(settings)
    batch_fetch = BatchFetcher(remote if allow_remote else None, out_of_time)
    if batch_fetch.remote is not None:
        _prefetch(session, items, settings, batch_fetch)
    rows: list[BatchRow] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items, 1):
        row, report = _check_item(session, index, item, settings, batch_fetch, now, out_of_time)
        if report is not None and report.credential is not None and row.verdict != "unreadable":
            _mark_duplicate(row, report.credential, seen)
        if applicants:
            _match_applicant(row, report, applicants)
        rows.append(row)
        if progress is not None:
            progress(row)
    return BatchResult(rows, now or utcnow(), time_budget)


def _prefetch(
    session: Session, items: Sequence[BatchItem], settings: Settings, fetch: BatchFetcher
) -> None:
    """The remote references first, then what every credential will look up, hosts in
    parallel; the checks then find the answers (or the failures) remembered."""
    own_host = urlsplit(settings.base_url).netloc.lower()
    remote = [i.url for i in items if i.url and urlsplit(i.url).netloc.lower() != own_host]
    fetch.prefetch(_remote_url(url) for url in remote)
    urls: list[str] = []
    for item in items:
        if item.problem is None:
            try:
                source = _source(session, item, settings, fetch)
            except CredentialError:
                continue
            urls.extend(look_ups(source, own_host))
    fetch.prefetch(urls)


def _check_item(
    session: Session,
    index: int,
    item: BatchItem,
    settings: Settings,
    fetch: BatchFetcher,
    now: datetime | None,
    out_of_time: Callable[[], bool],
) -> tuple[BatchRow, VerificationReport | None]:
    if item.problem is not None:
        return refused_row(index, item, "unreadable", item.problem), None
    if out_of_time():
        reason = "Not checked: the batch's time budget is spent"
        return refused_row(index, item, "not checked", reason), None
    try:
        source = _source(session, item, settings, fetch)
        fetcher = ServerFetcher(session, settings, fetch)
        report = verify(session, source, settings, fetcher=fetcher, now=now)
    except CredentialError as error:
        return refused_row(index, item, "unreadable", error.message), None
    except Exception:  # one item never stops the batch; what went wrong is logged for us
        log.exception("Batch verification of %r failed", item.name)
        reason = "Could not be checked (an internal error, logged)"
        return refused_row(index, item, "unreadable", reason), None
    return build_row(index, item, report), report


def _mark_duplicate(row: BatchRow, document: Mapping[str, Any], seen: dict[str, str]) -> None:
    key = _duplicate_key(document)
    if key in seen:
        row.duplicate_of = seen[key]
    else:
        seen[key] = row.name


def _match_applicant(
    row: BatchRow, report: VerificationReport | None, applicants: Mapping[str, Applicant]
) -> None:
    applicant = applicant_of(applicants, row.name, row.url, row.credential_id)
    if applicant is None:
        return
    row.applicant_email, row.applicant_name = applicant.email, applicant.name or None
    readable = report is not None and row.verdict in ("valid", "invalid")
    row.issued_to_applicant = (
        issued_to(_details(report), applicant.email) if readable and report else "cannot tell"
    )


# --- who may, how often ---------------------------------------------------------------------


def aware(moment: datetime) -> datetime:
    """A time read back from the database as UTC (SQLite gives it without its zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_batch_allowed_scope(principal: Principal) -> None:
    """A signed-in user, or a token with :data:`VERIFY_SCOPE`."""
    if not principal.has_scope(VERIFY_SCOPE):
        raise PermissionDenied(f"Batch verification needs a token with the {VERIFY_SCOPE} scope.")


def check_batch_allowed(
    session: Session, principal: Principal, now: datetime | None = None
) -> None:
    """:func:`check_batch_allowed_scope`, and at most :data:`MAX_BATCHES_PER_HOUR` batches an
    hour per user: a batch makes the server fetch URLs and run up to 500 verifications."""
    check_batch_allowed_scope(principal)
    now = now or utcnow()
    audited = session.execute(
        select(func.count(), func.min(AuditEvent.at)).where(
            AuditEvent.action == BATCH_VERIFIED,
            AuditEvent.actor_user_id == principal.user_id,
            AuditEvent.at > now - BATCH_WINDOW,
        )
    ).one()
    unfinished = session.execute(  # audited when they finish; counted from their start
        select(func.count(), func.min(VerificationBatch.created_at)).where(
            VerificationBatch.user_id == principal.user_id,
            VerificationBatch.state != VerificationBatchState.done,
            VerificationBatch.created_at > now - BATCH_WINDOW,
        )
    ).one()
    count = audited[0] + unfinished[0]
    if count >= MAX_BATCHES_PER_HOUR:
        oldest = min(aware(at) for at in (audited[1], unfinished[1]) if at is not None)
        minutes = max(1, -(-int((oldest + BATCH_WINDOW - now).total_seconds()) // 60))
        raise BatchThrottled(
            f"You verified {MAX_BATCHES_PER_HOUR} batches in the last hour, the limit per user. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


def verify_batch_as(
    session: Session,
    principal: Principal,
    batch: BatchInput,
    settings: Settings,
    *,
    applicants: Mapping[str, Applicant] | None = None,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
    time_budget: float = DEFAULT_TIME_BUDGET,
) -> BatchResult:
    """:func:`verify_batch` for a user of the web or the API: allowed and counted (audited with
    the totals, never the credentials) by :func:`check_batch_allowed`."""
    admit_batch(session, principal, batch, now)
    result = verify_batch(
        session, batch.items, settings, applicants=applicants, fetch=fetch, now=now,
        time_budget=time_budget,
    )  # fmt: skip
    record_batch_audit(session, principal, result)
    return result


def admit_batch(
    session: Session, principal: Principal, batch: BatchInput, now: datetime | None = None
) -> None:
    """Whether this batch may run now: :func:`check_batch_allowed`, and something to verify."""
    check_batch_allowed(session, principal, now)
    if not batch.items:
        raise BatchError("Nothing to verify: upload files or a ZIP, or give references.")


def record_batch_audit(
    session: Session, principal: Principal, result: BatchResult, batch_id: str | None = None
) -> None:
    """The audit entry of a finished batch: its totals, never the credentials."""
    record_audit(
        session, principal, BATCH_VERIFIED, object_type="verification_batch", object_id=batch_id,
        details=result.totals, summary=f"Verified a batch of {len(result.rows)} items",
    )  # fmt: skip


# --- output ---------------------------------------------------------------------------------

CSV_HEADER = (
    "#", "item", "verdict", "achievement", "issuer", "issuer id", "recipient",
    "applicant e-mail", "applicant name", "issued to applicant", "valid from", "valid until",
    "status", "duplicate of", "credential id", "kind", "format", "problems",
)  # fmt: skip


def result_csv(result: BatchResult) -> str:
    """The rows as CSV for a spreadsheet (cells defused), a totals line last."""
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(CSV_HEADER)
    for row in result.rows:
        writer.writerow([
            row.index, row.name, row.verdict, row.achievement or "", row.issuer_name or "",
            row.issuer_id or "", row.recipient or "", row.applicant_email or "",
            row.applicant_name or "", row.issued_to_applicant or "", row.valid_from or "",
            row.valid_until or "", row.status, row.duplicate_of or "", row.credential_id or "",
            row.kind, row.source, row.problem_text,
        ])  # fmt: skip
    totals = result.totals
    writer.writerow(["", "totals", *(f"{key}: {value}" for key, value in totals.items())])
    return out.getvalue()


def row_dict(row: BatchRow) -> dict[str, Any]:
    """A row as plain data (the API's JSON)."""
    return asdict(row)

"""Queueing, rendering and sending e-mail.

A message is written to the outbox (:class:`MailMessage`) in the caller's transaction by
:func:`queue_mail`, so nothing is sent from inside a request or an issuance, a rolled-back
change leaves no message behind and a committed one never loses its message. :func:`send_pending`
(the server's :class:`~microcred.mail.sender.Mailer`, or ``microcred mail send``) sends what is
due: over SMTP when ``smtp_url`` is set, else as ``.eml`` files into ``mail_dir``.

A message is claimed by a conditional UPDATE (state pending, due, a fresh claim token and a
lease) in a transaction of its own, just before it is sent; of several senders exactly one sees
its row updated. A failure (no connection, a 4xx answer) is retried after 1 min, 5 min, 30 min,
2 h and 12 h; the sixth failed attempt fails the message. A 5xx refusal of the recipient or of
the message fails it at once. Once sent or failed, a message's bodies are erased (they may hold
one-time links); its row is kept :data:`RETENTION` for the record, then deleted.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Table, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from microcred.db.base import new_id, utcnow
from microcred.db.fastinsert import insert_rows
from microcred.db.leases import claim_row
from microcred.errors import MicrocredError
from microcred.i18n import install as install_translations
from microcred.i18n import using_locale
from microcred.mail.models import MailMessage, MailState
from microcred.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PLATFORM_NAME = "microcred"
RETRY_DELAYS = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=12),
)  # fmt: skip
"""The wait after the first, second … failed attempt."""
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
"""The attempt after the last delay is the last: if it fails too, the message fails."""
RETENTION = timedelta(days=30)
MAX_ERROR_CHARS = 500
_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class MailError(MicrocredError):
    """A message that cannot be queued as asked (a bad address, a header injection)."""

    status_code = 422


@dataclass(frozen=True)
class SendSummary:
    """What one :func:`send_pending` round did."""

    sent: int = 0
    retried: int = 0
    """Failed this time, to be tried again later."""
    failed: int = 0
    """Failed for good (a permanent refusal, or the last attempt)."""

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


def mail_enabled(settings: Settings) -> bool:
    """Whether this server sends e-mail at all: an SMTP server or a mail directory is set."""
    return bool(settings.smtp_url) or settings.mail_dir is not None


def check_address(address: str) -> str:
    """``address`` stripped, if it is one plain mailbox (no display name, no second address, no
    line break); else :class:`MailError`."""
    address = address.strip()
    if "\r" in address or "\n" in address:
        raise MailError("An e-mail address cannot contain a line break.", field="to")
    if len(address) > 254 or not _ADDRESS_RE.match(address):
        raise MailError(f"Not an e-mail address: {address[:80]!r}.", field="to")
    return address


def queue_mail(
    session: Session,
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str,
    user_id: str | None = None,
    dedupe_key: str | None = None,
    sender_name: str | None = None,
) -> MailMessage | None:
    """Add a pending message in the caller's transaction; None (and nothing written) when mail
    is off or a message with ``dedupe_key`` was queued already."""
    if not mail_enabled(settings):
        return None
    address = check_address(to)
    if "\r" in subject or "\n" in subject:
        raise MailError("A subject cannot contain a line break.", field="subject")
    if not subject.strip():
        raise MailError("A message needs a subject.", field="subject")
    if dedupe_key is not None:
        seen = session.scalar(select(MailMessage.id).where(MailMessage.dedupe_key == dedupe_key))
        if seen is not None:
            return None
    message = MailMessage(
        id=new_id(), to_address=address, user_id=user_id, kind=kind, subject=subject[:300],
        text_body=text, html_body=html, state=MailState.pending, attempts=0,
        next_attempt_at=utcnow(), created_at=utcnow(), dedupe_key=dedupe_key,
        sender_name=clean_sender_name(sender_name),
    )  # fmt: skip
    if dedupe_key is None:
        session.add(message)
        return message
    try:
        # A concurrent transaction may have queued the same key since the check above.
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


@dataclass(frozen=True)
class OutgoingMail:
    """One message for :func:`queue_mails` (the arguments of :func:`queue_mail`)."""

    to: str
    subject: str
    text: str
    kind: str
    html: str | None = None
    user_id: str | None = None
    dedupe_key: str | None = None
    sender_name: str | None = None


DEDUPE_CHUNK = 500


def clean_sender_name(name: str | None) -> str | None:
    """A name for the ``From`` header: one line, at most 120 characters (None for none)."""
    if name is None:
        return None
    cleaned = " ".join(name.split())[:120]
    return cleaned or None


def queue_mails(session: Session, settings: Settings, messages: Sequence[OutgoingMail]) -> int:
    """:func:`queue_mail` for many messages at once — what a bulk batch sends: each checked,
    those whose ``dedupe_key`` is queued already (or repeats one of the batch) left out, the
    rest written by one multi-row insert in the caller's transaction. How many were queued.

    For keys no other transaction queues at the same moment (say, a credential just issued): a
    concurrent duplicate would fail the caller's transaction rather than be skipped."""
    if not mail_enabled(settings) or not messages:
        return 0
    checked = [(message, check_address(message.to)) for message in messages]
    for message, _ in checked:
        if "\r" in message.subject or "\n" in message.subject:
            raise MailError("A subject cannot contain a line break.", field="subject")
        if not message.subject.strip():
            raise MailError("A message needs a subject.", field="subject")
    keys = sorted({m.dedupe_key for m, _ in checked if m.dedupe_key is not None})
    seen: set[str] = set()
    for start in range(0, len(keys), DEDUPE_CHUNK):
        wanted = keys[start : start + DEDUPE_CHUNK]
        seen.update(
            session.scalars(
                select(MailMessage.dedupe_key).where(MailMessage.dedupe_key.in_(wanted))
            )
        )
    now = utcnow()
    rows = []
    for message, address in checked:
        if message.dedupe_key is not None:
            if message.dedupe_key in seen:
                continue
            seen.add(message.dedupe_key)
        rows.append(
            {
                "id": new_id(), "to_address": address, "user_id": message.user_id,
                "kind": message.kind, "subject": message.subject[:300],
                "text_body": message.text, "html_body": message.html,
                "state": MailState.pending, "attempts": 0, "next_attempt_at": now,
                "claim_token": None, "created_at": now, "sent_at": None, "last_error": None,
                "dedupe_key": message.dedupe_key,
                "sender_name": clean_sender_name(message.sender_name),
            }
        )  # fmt: skip
    insert_rows(session, cast(Table, MailMessage.__table__), rows)
    return len(rows)


_environments: dict[bool, Environment] = {}


def _environment(html: bool) -> Environment:
    if html not in _environments:
        _environments[html] = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"], default=False) if html else False,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        install_translations(_environments[html])
    return _environments[html]


def render_mail(template: str, locale: str | None = None, **context: Any) -> tuple[str, str]:
    """(text, HTML) of the message kind ``template``: ``templates/<template>.txt`` and
    ``.html`` (autoescaped, in the shared layout), in ``locale`` (the recipient account's saved
    language; None: English). Links in ``context`` should be absolute (:func:`absolute_link`);
    ``platform_name`` defaults to microcred."""
    context.setdefault("platform_name", PLATFORM_NAME)
    with using_locale(locale):
        text = _environment(False).get_template(f"{template}.txt").render(**context)
        html = _environment(True).get_template(f"{template}.html").render(**context)
    return text, html


def absolute_link(settings: Settings, path: str) -> str:
    """``path`` on this server, as a link that works from a mail client."""
    return f"{settings.base_url.rstrip('/')}/{path.lstrip('/')}"


def masked_url(url: str | None) -> str:
    """An SMTP URL fit to print: its password replaced by ``***``."""
    if not url:
        return "(not set)"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}{port}").geturl()


# Sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    sent: bool
    error: str | None = None
    permanent: bool = False
    """The server refused for good (5xx): no retry would help."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> Outcome: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:password@]host[:port][?starttls=true]`` or ``smtps://…`` (implicit
    TLS, port 465 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("MICROCRED_SMTP_URL must look like smtp://host:port or smtps://host.")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["false"])[-1].lower() in ("1", "true", "yes", "on")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587 if starttls else 25),
        implicit_tls=implicit,
        starttls=starttls and not implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = [
            f"{code} {raw.decode(errors='replace') if isinstance(raw, bytes) else raw}"
            for code, raw in error.recipients.values()
        ]
        text = "Recipient refused: " + "; ".join(answers)
    elif isinstance(error, smtplib.SMTPResponseException):
        answer = error.smtp_error
        detail = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
        text = f"{type(error).__name__}: {error.smtp_code} {detail}"
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:MAX_ERROR_CHARS]


def _permanent(error: BaseException) -> bool:
    """A 5xx refusal of the recipient or the message: retrying cannot help. (A 5xx to the
    sender or the login is the operator's configuration: retried, so fixing it sends.)"""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


class SmtpTransport:
    """One SMTP connection, opened at the first message and reused for a round."""

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_url
        self._target = parse_smtp_url(settings.smtp_url)
        self._timeout = settings.smtp_timeout_seconds
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        target = self._target
        client: smtplib.SMTP
        if target.implicit_tls:
            client = smtplib.SMTP_SSL(
                target.host, target.port, timeout=self._timeout,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=self._timeout)
            if target.starttls:
                client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        return client

    def send(self, message: EmailMessage) -> Outcome:
        try:
            if self._client is None:
                self._client = self._connect()
            self._client.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                self._reset()
            else:
                self.close()
            return Outcome(False, _describe(error), _permanent(error))
        return Outcome(True)

    def _reset(self) -> None:
        """After a refused message, the connection stays usable once RSET clears it."""
        if self._client is None:
            return
        try:
            self._client.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


class DirectoryTransport:
    """Writes each message as ``<time>-<id>.eml`` into a directory (development, the demo)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def send(self, message: EmailMessage) -> Outcome:
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            name = f"{utcnow():%Y%m%d-%H%M%S}-{message['X-Microcred-Id']}.eml"
            partial = self._directory / f".{name}.partial"
            partial.write_bytes(message.as_bytes())
            partial.replace(self._directory / name)
        except OSError as error:
            return Outcome(False, _describe(error))
        return Outcome(True)

    def close(self) -> None:
        return None


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SmtpTransport(settings)
    if settings.mail_dir is not None:
        return DirectoryTransport(settings.mail_dir)
    raise MailError("Mail is off: set MICROCRED_SMTP_URL or MICROCRED_MAIL_DIR.")


def _from_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def from_header(settings: Settings, sender_name: str | None) -> str | Address:
    """``mail_from`` as it is, or, for a mail on someone's behalf, their name "via" the
    platform's at the platform's own address (the address stays the one SPF and DKIM cover)."""
    if not sender_name:
        return settings.mail_from
    platform, address = parseaddr(settings.mail_from)
    return Address(display_name=f"{sender_name} via {platform or 'microcred'}", addr_spec=address)


HeaderHook = Callable[[MailMessage, Settings], Mapping[str, str]]
_header_hooks: list[HeaderHook] = []


def add_header_hook(hook: HeaderHook) -> HeaderHook:
    """Register ``hook`` (usable as a decorator): it names extra headers for a row being sent,
    e.g. notifications' ``List-Unsubscribe`` (RFC 8058), worked out at sending time from the
    row's person and kind so that the outbox stores no header."""
    if hook not in _header_hooks:
        _header_hooks.append(hook)
    return hook


def build_message(row: MailMessage, settings: Settings, now: datetime) -> EmailMessage:
    """The MIME message of an outbox row: text, and HTML as its alternative when there is one."""
    message = EmailMessage()
    for hook in _header_hooks:
        for name, value in hook(row, settings).items():
            if "\r" in value or "\n" in value:
                raise MailError(f"The {name} header cannot contain a line break.", field=name)
            message[name] = value
    message["From"] = from_header(settings, row.sender_name)
    message["To"] = Address(addr_spec=row.to_address)
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{row.message_id}@{_from_domain(settings)}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Microcred-Id"] = row.id
    message["X-Microcred-Kind"] = row.kind
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempts - 1]


def _lease(settings: Settings) -> timedelta:
    """Longer than one attempt can take (connect, TLS, login, send: each up to the timeout)."""
    return timedelta(seconds=max(60.0, 6 * settings.smtp_timeout_seconds))


def _claim(
    sessions: sessionmaker[Session], message_id: str, now: datetime, lease: timedelta
) -> str | None:
    """Claim one due message for this sender; its claim token, or None when another has it."""
    return claim_row(sessions, MailMessage, message_id, MailState.pending, now, lease)


def _record(
    sessions: sessionmaker[Session],
    message_id: str,
    token: str,
    outcome: Outcome,
    now: datetime,
    *,
    retry: bool = True,
) -> MailState | None:
    """Write an attempt's outcome if the claim still holds; the message's new state."""
    with sessions.begin() as session:
        row = session.get(MailMessage, message_id, with_for_update=True)
        if row is None or row.claim_token != token:
            return None
        row.attempts += 1
        row.claim_token = None
        if outcome.sent:
            row.state, row.sent_at, row.next_attempt_at = MailState.sent, now, None
            row.last_error = None
        else:
            row.last_error = outcome.error
            row.next_attempt_at = (
                None if outcome.permanent or not retry else next_attempt(row.attempts, now)
            )
            if row.next_attempt_at is None:
                row.state = MailState.failed
        if row.state is not MailState.pending:
            row.text_body, row.html_body = "", None  # one-time links go with the message
        return row.state


def _send_claimed(
    sessions: sessionmaker[Session],
    settings: Settings,
    transport: Transport,
    message_id: str,
    token: str,
    now: datetime,
    *,
    retry: bool = True,
) -> tuple[MailState | None, Outcome | None]:
    with sessions() as session:
        row = session.get(MailMessage, message_id)
        if row is None or row.claim_token != token:
            return None, None
        try:
            message: EmailMessage | None = build_message(row, settings, now)
        except (MailError, ValueError, MessageError) as error:
            # A message that cannot be built never will be: fail it rather than retry forever.
            message, outcome = None, Outcome(False, _describe(error), permanent=True)
    if message is not None:
        outcome = transport.send(message)
    if not outcome.sent:
        log.warning("Mail %s not sent: %s", message_id, outcome.error)
    return _record(sessions, message_id, token, outcome, now, retry=retry), outcome


@contextmanager
def _opened(settings: Settings) -> Iterator[Transport]:
    transport = transport_for(settings)
    try:
        yield transport
    finally:
        transport.close()


def due_count(session: Session, now: datetime | None = None) -> int:
    """How many pending messages are due now."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(
                MailMessage.state == MailState.pending,
                MailMessage.next_attempt_at <= (now or utcnow()),
            )
        )
        or 0
    )


def send_pending(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    limit: int = 100,
    now: datetime | None = None,
) -> SendSummary:
    """Send up to ``limit`` due messages, oldest due first, each claimed, sent and recorded on
    its own (safe beside other senders: each message is sent by one of them)."""
    if not mail_enabled(settings):
        return SendSummary()
    now = now or utcnow()
    with sessions() as session:
        due = session.scalars(
            select(MailMessage.id)
            .where(MailMessage.state == MailState.pending, MailMessage.next_attempt_at <= now)
            .order_by(MailMessage.next_attempt_at, MailMessage.created_at)
            .limit(limit)
        ).all()
    if not due:
        return SendSummary()
    counts = {MailState.sent: 0, MailState.pending: 0, MailState.failed: 0}
    lease = _lease(settings)
    with _opened(settings) as transport:
        for message_id in due:
            token = _claim(sessions, message_id, now, lease)
            if token is None:
                continue
            state, _ = _send_claimed(sessions, settings, transport, message_id, token, now)
            if state is not None:
                counts[state] += 1
    return SendSummary(
        sent=counts[MailState.sent], retried=counts[MailState.pending],
        failed=counts[MailState.failed],
    )  # fmt: skip


def send_now(sessions: sessionmaker[Session], settings: Settings, message_id: str) -> Outcome:
    """Send one pending message at once, without retries (``microcred mail test``): a failure
    fails it."""
    now = utcnow()
    token = _claim(sessions, message_id, now, _lease(settings))
    if token is None:
        return Outcome(False, "The message is not pending (already sent by another sender?).")
    with _opened(settings) as transport:
        _, outcome = _send_claimed(
            sessions, settings, transport, message_id, token, now, retry=False
        )
    return outcome or Outcome(False, "The message was taken by another sender.")


def list_messages(
    session: Session, state: MailState | None = None, limit: int = 100
) -> list[MailMessage]:
    """The outbox, newest first."""
    query = select(MailMessage).order_by(MailMessage.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(MailMessage.state == state)
    return list(session.scalars(query))


def prune(
    sessions: sessionmaker[Session], now: datetime | None = None, keep: timedelta = RETENTION
) -> int:
    """Delete messages finished (sent or failed) more than ``keep`` ago; how many. Pending ones
    are never deleted."""
    cutoff = (now or utcnow()) - keep
    with sessions.begin() as session:
        result = session.execute(
            delete(MailMessage)
            .where(
                MailMessage.state.in_([MailState.sent, MailState.failed]),
                MailMessage.created_at < cutoff,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Notifications by e-mail, and the mail that tells a recipient a credential was issued to them.

Only when the server sends mail (:func:`microcred.mail.service.mail_enabled`); otherwise every
function here returns at its first check. Messages go to the outbox in the transaction that made
the notification, so a mail exists exactly when what it tells of does, and the outbox's sender
delivers them afterwards (nothing waits on a mail server inside a request or an issuance).

A person's notifications fall in five groups (:data:`GROUPS`): their credentials, the pathways
they complete, their account (apps connected, credentials apps add to the wallet), questions
about what they did next (the six-month employment report), and their organisations' work (bulk
jobs, award reviews, endorsements). Each
group is e-mailed unless muted on the Notifications page or by the one-click unsubscribe link
every such mail carries (RFC 8058 style: a POST to the link, no sign-in, no cookie). The
in-app notification is written either way.

A credential issued to an e-mail address is mailed to that address — to the account's address
when the recipient has an account (and has not muted the group) — when its issuer e-mails
recipients (an issuance setting, on by default). A credential for a DID names no address and is
not mailed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, User
from microcred.accounts.service import Principal
from microcred.credentials import events
from microcred.credentials import service as credentials
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.i18n import N_, Day, supported, translate, using_locale
from microcred.i18n import gettext as _
from microcred.mail.models import MailMessage
from microcred.mail.service import (
    MailError,
    OutgoingMail,
    absolute_link,
    add_header_hook,
    check_address,
    mail_enabled,
    queue_mails,
    render_mail,
)
from microcred.notifications.models import MailPreference
from microcred.settings import Settings

CREDENTIAL_ISSUED = "credential.issued"
READ_SCOPE = "notifications:read"
NOTIFICATION_KIND = "notification."
"""The outbox kind of a notification's mail is this prefix and the notification's kind."""
GROUPS: dict[str, str] = {
    "credentials": N_(
        "Your credentials: issued to you, revoked, suspended, reinstated or expiring"
    ),
    "pathways": N_("Pathways you complete"),
    "account": N_("Your account: apps you connect, credentials apps add to your wallet"),
    "surveys": N_(
        "Questions about your programmes: a short survey when you complete one, and "
        "what you did next six months on"
    ),
    "organisation": N_(
        "Your organisations' work: bulk jobs finished, awards to review, endorsements"
    ),
}
_UNSUBSCRIBE_SALT = "notifications.unsubscribe"
_log = logging.getLogger(__name__)


class PreferenceError(MicrocredError):
    status_code = 400


def group_of(kind: str) -> str:
    """The group a notification kind belongs to."""
    if kind.startswith("credential."):
        return "credentials"
    if kind == "pathway.awarded":
        return "pathways"
    if kind.startswith(("app.", "wallet.", "account.")):
        return "account"
    if kind.startswith("outcomes.") or kind == "assessment.survey_due":
        return "surveys"
    return "organisation"


def _muted(session: Session, user_ids: Collection[str]) -> dict[str, set[str]]:
    if not user_ids:
        return {}
    query = select(MailPreference.user_id, MailPreference.muted).where(
        MailPreference.user_id.in_(list(user_ids))
    )
    return {row.user_id: set(row.muted) for row in session.execute(query)}


def _require_scope(principal: Principal) -> None:
    if not principal.has_scope(READ_SCOPE):
        raise PermissionDenied(f"This token lacks the {READ_SCOPE} scope.")


def mailed_groups(session: Session, principal: Principal) -> set[str]:
    """The groups of the principal's own notifications that are e-mailed."""
    _require_scope(principal)
    return set(GROUPS) - _muted(session, [principal.user_id]).get(principal.user_id, set())


def set_mailed_groups(session: Session, principal: Principal, groups: Iterable[str]) -> set[str]:
    """E-mail exactly these groups of the principal's own notifications; the others are muted."""
    _require_scope(principal)
    chosen = set(groups)
    unknown = sorted(chosen - GROUPS.keys())
    if unknown:
        raise PreferenceError(
            f"Unknown notification group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}.",
            field="groups",
        )
    _store(session, principal.user_id, set(GROUPS) - chosen)
    return chosen


def _store(session: Session, user_id: str, muted: set[str]) -> None:
    row = session.get(MailPreference, user_id)
    if row is None:
        session.add(MailPreference(user_id=user_id, muted=sorted(muted)))
    else:
        row.muted = sorted(muted)
    session.flush()


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(settings: Settings, user_id: str, group: str) -> str:
    """A signed token naming the person and the group; it does not expire (an unsubscribe link
    in an old mail must still work) and does nothing but mute that group."""
    return str(_serializer(settings).dumps([user_id, group]))


@dataclass(frozen=True)
class Unsubscription:
    user_id: str
    email: str
    group: str

    @property
    def description(self) -> str:
        return GROUPS[self.group]


def read_unsubscribe_token(session: Session, settings: Settings, token: str) -> Unsubscription:
    """What a token unsubscribes; :class:`NotFound` for a forged, altered or stale one."""
    try:
        user_id, group = _serializer(settings).loads(token)
    except (BadSignature, ValueError, TypeError) as error:
        raise NotFound("This unsubscribe link is not valid.") from error
    user = session.get(User, user_id) if isinstance(user_id, str) else None
    if user is None or group not in GROUPS:
        raise NotFound("This unsubscribe link is not valid.")
    return Unsubscription(user.id, user.email, group)


def unsubscribe(session: Session, settings: Settings, token: str) -> Unsubscription:
    """Mute the token's group for its person (again is harmless)."""
    found = read_unsubscribe_token(session, settings, token)
    _store(
        session,
        found.user_id,
        _muted(session, [found.user_id]).get(found.user_id, set()) | {found.group},
    )
    return found


@dataclass(frozen=True)
class _Recipient:
    user_id: str
    email: str
    name: str
    locale: str | None = None


def _accounts(session: Session, user_ids: Collection[str]) -> dict[str, _Recipient]:
    if not user_ids:
        return {}
    query = select(User.id, User.email, User.name, User.locale).where(User.id.in_(list(user_ids)))
    return {
        row.id: _Recipient(row.id, row.email, row.name, row.locale)
        for row in session.execute(query)
    }


def _message(
    template: str,
    *,
    to: str,
    subject: str,
    kind: str,
    user_id: str | None,
    dedupe_key: str | None,
    context: Mapping[str, Any],
    locale: str | None = None,
    sender_name: str | None = None,
) -> OutgoingMail | None:
    """The message, or None (logged) for an address mail cannot go to: accounts and issuance
    accept some addresses a mail header cannot carry, and a mail must never stop an issuance."""
    try:
        check_address(to)
    except MailError as error:
        _log.warning("%s not e-mailed to %r: %s", kind, to, error.message)
        return None
    text, html = render_mail(template, locale=locale, subject=subject, **context)
    return OutgoingMail(
        to=to, subject=subject, text=text, html=html, kind=kind, user_id=user_id,
        dedupe_key=dedupe_key, sender_name=sender_name,
    )  # fmt: skip


def address_locale(stated: object, organisation_default: str | None) -> str | None:
    """The language of a mail to an address no account holds (docs/i18n.md): the credential's
    (its definition's ``inLanguage``) when we have a catalog for it, else the issuer's default
    for such mails, else English (None)."""
    return supported(stated if isinstance(stated, str) else None) or organisation_default


def _stated_language(document: Any) -> object:
    """The ``achievement.inLanguage`` a credential document states (or the document's own)."""
    if not isinstance(document, Mapping):
        return None
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    stated = achievement.get("inLanguage") if isinstance(achievement, Mapping) else None
    return stated or document.get("inLanguage")


def mail_notifications(session: Session, settings: Settings, items: Sequence[Any]) -> int:
    """Queue a mail for each notification (``NewNotification``s) whose person has not muted its
    group; a credential's issuance is mailed by :func:`credentials_issued` instead. How many."""
    if not mail_enabled(settings):
        return 0
    wanted = [item for item in items if item.kind != CREDENTIAL_ISSUED]
    if not wanted:
        return 0
    users = {item.user_id for item in wanted}
    people, muted = _accounts(session, users), _muted(session, users)
    messages = []
    for item in wanted:
        person, group = people.get(item.user_id), group_of(item.kind)
        if person is None or group in muted.get(item.user_id, set()):
            continue
        with using_locale(person.locale):
            subject, body = translate(item.title)[:300], translate(item.body)
        messages.append(_message(
            "notification", to=person.email, subject=subject,
            kind=f"{NOTIFICATION_KIND}{item.kind}", user_id=person.user_id, dedupe_key=None,
            locale=person.locale,
            context={
                "name": person.name, "body": body,
                "link": absolute_link(settings, item.link) if item.link else None,
                "reason": GROUPS[group],
                "unsubscribe": _unsubscribe_link(settings, person.user_id, group),
                "preferences": absolute_link(settings, "/notifications#email"),
            },
        ))  # fmt: skip
    return queue_mails(session, settings, [m for m in messages if m is not None])


def _unsubscribe_link(settings: Settings, user_id: str, group: str) -> str:
    return absolute_link(
        settings, f"/notifications/unsubscribe/{unsubscribe_token(settings, user_id, group)}"
    )


@add_header_hook
def list_unsubscribe(row: MailMessage, settings: Settings) -> dict[str, str]:
    """RFC 8058 one-click unsubscription headers for a mail sent to an account about one of
    its notification groups: mail clients show an Unsubscribe button that POSTs to the link."""
    if row.user_id is None:
        return {}
    if row.kind == CREDENTIAL_ISSUED:
        group = "credentials"
    elif row.kind.startswith(NOTIFICATION_KIND):
        group = group_of(row.kind.removeprefix(NOTIFICATION_KIND))
    else:
        return {}
    return {
        "List-Unsubscribe": f"<{_unsubscribe_link(settings, row.user_id, group)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@events.issued.register
def credentials_issued(session: Session, event: events.IssuedEvent) -> None:
    """Mail each recipient of a credential just issued, when its issuer e-mails recipients."""
    settings = event.settings
    if not mail_enabled(settings):
        return
    rows = [row for row in event.credentials if row.get("recipient_user_id") or _address(row)]
    if not rows:
        return
    issuers = credentials.recipients_emailed(session, {row["organisation_id"] for row in rows})
    rows = [row for row in rows if row["organisation_id"] in issuers]
    if not rows:
        return
    query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(issuers))
    names = {row.id: row.name for row in session.execute(query)}
    users = {row["recipient_user_id"] for row in rows if row.get("recipient_user_id")}
    people, muted = _accounts(session, users), _muted(session, users)
    defaults = credentials.mail_locales(session, {row["organisation_id"] for row in rows})
    messages = []
    for row in rows:
        user_id = row.get("recipient_user_id")
        person = people.get(user_id) if user_id else None
        if user_id and (person is None or "credentials" in muted.get(user_id, set())):
            continue
        issuer = names.get(row["organisation_id"], "An issuer")
        locale = (
            person.locale
            if person
            else address_locale(
                _stated_language(row.get("document")), defaults.get(row["organisation_id"])
            )
        )
        with using_locale(locale):
            subject = _("%(issuer)s issued you a credential: %(achievement)s") % {
                "issuer": issuer, "achievement": row["achievement_name"],
            }  # fmt: skip
        messages.append(_message(
            "credential_issued", to=person.email if person else _address(row),
            subject=subject[:300], kind=CREDENTIAL_ISSUED, user_id=user_id,
            dedupe_key=f"{CREDENTIAL_ISSUED}:{row['id']}", locale=locale,
            sender_name=names.get(row["organisation_id"]),
            context={
                "name": person.name if person else row.get("recipient_name"),
                "issuer": issuer, "achievement": row["achievement_name"],
                "link": absolute_link(settings, f"/credentials/{row['id']}"),
                "has_account": person is not None,
                "sign_up": absolute_link(settings, "/sign-up")
                if settings.open_sign_up and person is None
                else None,
                "unsubscribe": _unsubscribe_link(settings, person.user_id, "credentials")
                if person
                else None,
                "preferences": absolute_link(settings, "/notifications#email"),
            },
        ))  # fmt: skip
    queue_mails(session, settings, [m for m in messages if m is not None])


EXPIRING = "credential.expiring"


def mail_expiring_to_addresses(
    session: Session, settings: Settings, start: datetime, end: datetime
) -> int:
    """Mail, once each, the recipients without an account of active credentials ending in
    [start, end), when their issuer e-mails recipients (account holders hear through their
    notification instead); how many were queued."""
    if not mail_enabled(settings):
        return 0
    due = credentials.credentials_expiring(session, start, end, held=False)
    if not due:
        return 0
    issuers = credentials.recipients_emailed(session, {row.organisation_id for row in due})
    due = [row for row in due if row.organisation_id in issuers]
    query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(issuers))
    names = {row.id: row.name for row in session.execute(query)}
    defaults = credentials.mail_locales(session, issuers)
    languages = credentials.definition_languages(session, {row.definition_id for row in due})
    messages = []
    for row in due:
        locale = address_locale(languages.get(row.definition_id), defaults.get(row.organisation_id))
        with using_locale(locale):
            issuer = names.get(row.organisation_id) or _("its issuer")
            ends = translate(Day(row.valid_until)) if row.valid_until else _("soon")
            subject = _("Your credential ends %(day)s: %(achievement)s") % {
                "day": ends, "achievement": row.achievement_name,
            }  # fmt: skip
        messages.append(_message(
            "credential_expiring", to=str(row.recipient_email), subject=subject[:300],
            kind=EXPIRING, user_id=None, dedupe_key=f"{EXPIRING}:{row.id}", locale=locale,
            sender_name=names.get(row.organisation_id),
            context={
                "name": row.recipient_name, "issuer": issuer, "achievement": row.achievement_name,
                "ends": ends, "link": absolute_link(settings, f"/credentials/{row.id}"),
            },
        ))  # fmt: skip
    return queue_mails(session, settings, [m for m in messages if m is not None])


def _address(row: Mapping[str, Any]) -> str:
    return str(row.get("recipient_email") or "")

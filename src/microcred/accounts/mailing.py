"""The e-mails accounts send when mail is on (``microcred.mail``): a password reset link asked
for by its owner, an address confirmation link, an invitation. Each is queued in the caller's
transaction, with a dedupe key naming the link's row, so a retried transaction queues it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from microcred.accounts.models import Invitation, User
from microcred.accounts.service import Principal
from microcred.i18n import N_, using_locale
from microcred.i18n import gettext as _
from microcred.mail.service import absolute_link, mail_enabled, queue_mail, render_mail
from microcred.settings import Settings

RESET_MAIL = "account.password_reset"
VERIFY_MAIL = "account.verify_email"
INVITATION_MAIL = "account.invitation"

ROLE_WORDS = {
    "admin": N_("admin"),
    "issuer_staff": N_("issuer staff"),
    "assessor": N_("assessor"),
    "learner": N_("learner"),
    "employer": N_("employer"),
}
"""How an invitation names the role it offers, translated where it is written (``_(word)``)."""

if TYPE_CHECKING:
    from microcred.accounts.admin import Invited, RecipientInvitation


def _queue_link_mail(
    session: Session,
    settings: Settings,
    user: User,
    *,
    template: str,
    subject: str,
    path: str,
    kind: str,
    dedupe_key: str,
) -> bool:
    """A one-time link to the account's own address, in the account's language (``subject``
    is the English text, marked with ``N_`` where it is written); False when mail is off."""
    text, html = render_mail(
        template, locale=user.locale, name=user.name, email=user.email,
        link=absolute_link(settings, path), base_url=settings.base_url,
    )  # fmt: skip
    with using_locale(user.locale):
        translated = _(subject)
    queued = queue_mail(
        session, settings, to=user.email, subject=translated, text=text, html=html, kind=kind,
        user_id=user.id, dedupe_key=dedupe_key,
    )  # fmt: skip
    return queued is not None


def queue_password_reset(
    session: Session, settings: Settings, user: User, secret: str, reset_id: str
) -> bool:
    return _queue_link_mail(
        session, settings, user, template="password_reset",
        subject=N_("Reset your password"), path=f"/password-reset/{secret}", kind=RESET_MAIL,
        dedupe_key=f"reset:{reset_id}",
    )  # fmt: skip


def queue_verification(
    session: Session, settings: Settings, user: User, secret: str, verification_id: str
) -> bool:
    return _queue_link_mail(
        session, settings, user, template="verify_email",
        subject=N_("Confirm your e-mail address"), path=f"/verify-email/{secret}",
        kind=VERIFY_MAIL, dedupe_key=f"verify:{verification_id}",
    )  # fmt: skip


def queue_invitation(
    session: Session,
    settings: Settings,
    invitation: Invitation,
    secret: str,
    *,
    inviter: str | None,
    recipient: bool = False,
) -> bool:
    """E-mail an invitation's link to the invitee; ``recipient``: the organisation invites the
    recipient of credentials it issued (the mail says accepting collects them). False when mail
    is off. The invitee has no account yet: the mail is in the organisation's default language
    of such mails (its issuance settings), else English."""
    if not mail_enabled(settings):
        return False
    from microcred.accounts.admin import INVITATION_DAYS
    from microcred.credentials.service import mail_locales

    organisation = " ".join(invitation.organisation.name.split())
    locale = mail_locales(session, [invitation.organisation_id]).get(invitation.organisation_id)
    with using_locale(locale):
        role_word = invitation.role.value.replace("_", " ")
        role = _(ROLE_WORDS.get(invitation.role.value, role_word))
        subject = _("Your invitation to %(organisation)s") % {"organisation": organisation}
    text, html = render_mail(
        "invitation", locale=locale, inviter=inviter or organisation, organisation=organisation,
        role=role, email=invitation.email,
        link=absolute_link(settings, f"/invitations/{secret}"), days=INVITATION_DAYS,
        recipient=recipient, base_url=settings.base_url,
    )  # fmt: skip
    queued = queue_mail(
        session, settings, to=invitation.email, subject=subject[:300],
        text=text, html=html, kind=INVITATION_MAIL, dedupe_key=f"invitation:{invitation.id}",
        sender_name=organisation,
    )  # fmt: skip
    return queued is not None


def mail_invited(
    session: Session, settings: Settings, invited: Invited, principal: Principal | None
) -> bool:
    """E-mail the link of an invitation just made (:func:`accounts.admin.invite`); False when
    there is none (a membership was added) or mail is off."""
    if invited.invitation is None or invited.secret is None:
        return False
    return queue_invitation(
        session, settings, invited.invitation, invited.secret,
        inviter=principal.name if principal else None,
    )  # fmt: skip


def mail_recipient_invitations(
    session: Session,
    settings: Settings,
    invited: list[RecipientInvitation],
    principal: Principal | None,
) -> int:
    """E-mail the links :func:`accounts.admin.invite_recipients` just made; how many."""
    inviter = principal.name if principal else None
    sent = 0
    for item in invited:
        if item.invitation is not None and item.secret is not None:
            sent += queue_invitation(
                session, settings, item.invitation, item.secret, inviter=inviter, recipient=True
            )
    return sent

"""Endorsing, answering and withdrawing endorsements.

An admin of organisation B endorses a *published* credential definition of organisation A (the
subject is that version's achievement id) or A's issuer profile (the subject is A's DID). The
endorsement is an OB 3.0 ``EndorsementCredential`` signed with B's key, with a Bitstring status
entry from B's lists so that B can withdraw it. A's admins accept or decline it; only accepted,
unwithdrawn, unexpired endorsements are embedded in credentials issued from then on
(:mod:`microcred.endorsements.embedding`). One live (pending or accepted) endorsement per
endorser and subject: a new one withdraws the older. Every change is audited.

Visibility: the endorser's and the endorsed organisation's admins see an endorsement; everyone
else sees only accepted ones (public pages, the credential's id URL), never pending ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import (
    Principal,
    get_organisation,
    record_audit,
    staff_organisations,
)
from microcred.catalogue import service as catalogue
from microcred.catalogue.ob3 import definition_url, to_ob3_profile
from microcred.credentials import service as credentials
from microcred.credentials.keystore import issuer_did, signing_key
from microcred.credentials.models import KeyAlgorithm
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.db.base import new_id, utcnow
from microcred.endorsements.documents import build_endorsement, check_comment, checked_text
from microcred.endorsements.errors import EndorsementError, EndorsementForbidden
from microcred.endorsements.models import (
    LIVE_STATES,
    Endorsement,
    EndorsementState,
    SubjectKind,
)
from microcred.errors import NotFound
from microcred.i18n import L_
from microcred.notifications import service as notifications
from microcred.settings import Settings, get_settings
from microcred.webhooks import outbox as webhooks

MANAGE_SCOPE = "endorsements:manage"
FORMATS = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
DEFAULT_FORMAT = "eddsa-rdfc-2022"
MAX_REASON = 1000
REPLACED = "Replaced by a newer endorsement of the same subject"


def can_manage(principal: Principal | None, organisation_id: str) -> bool:
    """Admins of the organisation (and platform administrators), scope endorsements:manage."""
    return principal is not None and principal.can(organisation_id, scope=MANAGE_SCOPE)


def managed_organisations(session: Session, principal: Principal) -> list[Organisation]:
    """The organisations the principal endorses for and answers endorsements of, by name."""
    return [
        org
        for org in staff_organisations(session, principal, Role.admin)
        if can_manage(principal, org.id)
    ]


def managed_organisation(session: Session, principal: Principal, organisation: str) -> Organisation:
    org = get_organisation(session, organisation)
    if not can_manage(principal, org.id):
        raise EndorsementForbidden("Only this organisation's admins manage its endorsements.")
    return org


def credential_url(settings: Settings, endorsement_id: str) -> str:
    """The endorsement credential's id: where it is served publicly once accepted."""
    return f"{settings.base_url.rstrip('/')}/endorsements/{endorsement_id}"


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: str
    name: str
    organisation: Organisation
    definition_id: str | None = None
    definition_version: int | None = None


def resolve_subject(
    session: Session,
    settings: Settings,
    *,
    definition_id: str | None = None,
    issuer: str | None = None,
) -> Subject:
    """What is endorsed: the current published version of a definition, or an issuer."""
    if (definition_id is None) == (issuer is None):
        raise EndorsementError(
            "Endorse either a credential definition or an issuer, not both or neither.",
            field="definition_id",
        )
    base_url = settings.base_url
    if definition_id is not None:
        try:
            definition = catalogue.get_published(session, definition_id)
        except NotFound as error:
            raise EndorsementError(
                f"No published credential definition '{definition_id}'.",
                field="definition_id",
                status_code=404,
            ) from error
        return Subject(
            SubjectKind.definition,
            definition_url(base_url, definition.definition_id, definition.version),
            definition.name,
            definition.issuer,
            definition.definition_id,
            definition.version,
        )
    assert issuer is not None
    try:
        view = catalogue.get_issuer(session, issuer)
    except NotFound as error:
        raise EndorsementError(f"No issuer '{issuer}'.", field="issuer", status_code=404) from error
    organisation = view.organisation
    return Subject(
        SubjectKind.issuer, issuer_did(base_url, organisation.slug), organisation.name, organisation
    )


def endorser_profile(session: Session, organisation: Organisation, base_url: str) -> dict[str, Any]:
    """The endorser as the credential's ``issuer``: its OB 3.0 Profile, its DID as the id (the
    controller of the key that signs) and its public page as the url."""
    profile = to_ob3_profile(
        organisation, base_url, catalogue.issuer_profile_of(session, organisation.id)
    )
    profile.setdefault("url", profile["id"])
    profile["id"] = issuer_did(base_url, organisation.slug)
    return profile


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sign(
    session: Session,
    document: dict[str, Any],
    organisation: Organisation,
    settings: Settings,
    suite: str,
    now: datetime,
) -> dict[str, Any]:
    key = signing_key(session, organisation, KeyAlgorithm.ed25519, settings)
    assert key.ed25519 is not None
    return add_proof(document, key.ed25519, key.verification_method, suite=suite, created=now)


def endorse(
    session: Session,
    principal: Principal | None,
    settings: Settings,
    endorser: str,
    *,
    comment: str,
    definition_id: str | None = None,
    issuer: str | None = None,
    valid_until: datetime | None = None,
    suite: str = DEFAULT_FORMAT,
) -> Endorsement:
    """Sign and store a pending endorsement by ``endorser`` (slug or id); see the module
    docstring. ``principal`` None: a trusted system caller (the demo)."""
    organisation = get_organisation(session, endorser)
    if principal is not None and not can_manage(principal, organisation.id):
        raise EndorsementForbidden("Only the organisation's admins endorse for it.")
    if suite not in FORMATS:
        raise EndorsementError(f"format must be one of {', '.join(FORMATS)}.", field="format")
    subject = resolve_subject(session, settings, definition_id=definition_id, issuer=issuer)
    if subject.organisation.id == organisation.id:
        raise EndorsementError(
            "An organisation cannot endorse itself or its own credentials.", field="endorser"
        )
    cleaned = check_comment(comment)
    now = utcnow()
    until = _aware(valid_until)
    if until is not None and until <= now:
        raise EndorsementError("valid_until must be in the future.", field="valid_until")
    for older in _live(session, organisation.id, subject.id):
        _withdraw(session, principal, older, REPLACED, settings)
    endorsement_id = new_id()
    status = credentials.allocate_document_status(session, organisation, settings)
    unsigned = build_endorsement(
        credential_id=credential_url(settings, endorsement_id),
        issuer=endorser_profile(session, organisation, settings.base_url),
        subject_id=subject.id,
        comment=cleaned,
        name=f"Endorsement of {subject.name} by {organisation.name}",
        valid_from=now,
        valid_until=until,
        credential_status=status.entry(settings),
    )
    document = _sign(session, unsigned, organisation, settings, suite, now)
    endorsement = Endorsement(
        id=endorsement_id,
        endorser_id=organisation.id,
        endorsed_id=subject.organisation.id,
        subject_kind=subject.kind,
        subject_id=subject.id,
        definition_id=subject.definition_id,
        definition_version=subject.definition_version,
        subject_name=subject.name[:300],
        comment=cleaned,
        state=EndorsementState.pending,
        valid_from=now,
        valid_until=until,
        document=document,
        status_list_id=status.status_list_id,
        status_index=status.status_index,
        created_by_user_id=principal.user_id if principal else None,
    )
    session.add(endorsement)
    racing = EndorsementError(  # worded now: a failed flush expires the rows it names
        f"{organisation.name} endorsed {subject.name} in another request just now; reload to see "
        "it (a new endorsement replaces it).",
        status_code=409,
    )
    try:
        session.flush()
    except IntegrityError as error:  # another request endorsed the same subject meanwhile
        raise racing from error
    credentials.record_document_event(session, document, organisation, "issued", settings)
    record_audit(
        session, principal, "endorsements.create", organisation_id=organisation.id,
        object_type="endorsement", object_id=endorsement.id,
        details={"subject_id": subject.id, "endorsed": subject.organisation.slug},
        summary=f"Endorsed {subject.name}",
    )  # fmt: skip
    _announce(
        session, principal, settings, endorsement, notifications.ENDORSEMENT_RECEIVED,
        to=subject.organisation,
        title=L_("%(endorser)s endorses %(subject)s", endorser=organisation.name,
                 subject=subject.name),
        body=L_("Accept it to have every credential issued from now on carry it, or decline it."),
    )  # fmt: skip
    return endorsement


def _live(session: Session, endorser_id: str, subject_id: str) -> Sequence[Endorsement]:
    return session.scalars(
        select(Endorsement).where(
            Endorsement.endorser_id == endorser_id,
            Endorsement.subject_id == subject_id,
            Endorsement.state.in_(LIVE_STATES),
        )
    ).all()


def _visible(principal: Principal | None, endorsement: Endorsement) -> bool:
    return can_manage(principal, endorsement.endorser_id) or can_manage(
        principal, endorsement.endorsed_id
    )


def get_endorsement(
    session: Session, principal: Principal | None, endorsement_id: str
) -> Endorsement:
    """One endorsement for its endorser's or its subject's admins; "not found" for anyone else
    (``principal`` None: a trusted system caller)."""
    endorsement = session.get(Endorsement, endorsement_id)
    if endorsement is None or (principal is not None and not _visible(principal, endorsement)):
        raise NotFound(f"No endorsement '{endorsement_id}'.")
    return endorsement


def public_document(session: Session, endorsement_id: str) -> dict[str, Any]:
    """The signed credential at its id URL, for anyone, once it has been accepted (a withdrawn
    one stays readable: badges issued before carry it and its status says it is withdrawn)."""
    endorsement = session.get(Endorsement, endorsement_id)
    if endorsement is None or endorsement.accepted_at is None:
        raise NotFound(f"No endorsement '{endorsement_id}'.")
    return endorsement.document


def decide(
    session: Session,
    principal: Principal | None,
    endorsement_id: str,
    *,
    accept: bool,
    settings: Settings | None = None,
) -> Endorsement:
    """The endorsed organisation's admins accept a pending endorsement, or decline a pending or
    accepted one (credentials issued from then on no longer carry it; those issued before keep
    it, and the endorser's signed statement stays valid)."""
    endorsement = get_endorsement(session, principal, endorsement_id)
    if principal is not None and not can_manage(principal, endorsement.endorsed_id):
        raise EndorsementForbidden(
            "Only the endorsed organisation's admins accept or decline its endorsements."
        )
    allowed = (EndorsementState.pending,) if accept else LIVE_STATES
    if endorsement.state not in allowed:
        verb = "accepted" if accept else "declined"
        raise EndorsementError(
            f"This endorsement is {endorsement.state.value}: it cannot be {verb}."
        )
    now = utcnow()
    until = _aware(endorsement.valid_until)
    if accept and until is not None and until <= now:
        raise EndorsementError("This endorsement has expired: ask the endorser for a new one.")
    endorsement.state = EndorsementState.accepted if accept else EndorsementState.declined
    endorsement.decided_at = now
    endorsement.decided_by_user_id = principal.user_id if principal else None
    if accept:
        endorsement.accepted_at = now
    record_audit(
        session, principal, f"endorsements.{'accept' if accept else 'decline'}",
        organisation_id=endorsement.endorsed_id, object_type="endorsement",
        object_id=endorsement.id, details={"subject_id": endorsement.subject_id},
    )  # fmt: skip
    session.flush()
    _tell_endorser(session, principal, settings or get_settings(), endorsement, accept)
    return endorsement


def _tell_endorser(
    session: Session,
    principal: Principal | None,
    settings: Settings,
    endorsement: Endorsement,
    accepted: bool,
) -> None:
    """The endorser hears the answer (credentials carry the endorsement, or not)."""
    endorsed = session.get(Organisation, endorsement.endorsed_id)
    endorser = session.get(Organisation, endorsement.endorser_id)
    assert endorsed is not None and endorser is not None
    kind = notifications.ENDORSEMENT_ACCEPTED if accepted else notifications.ENDORSEMENT_DECLINED
    names = {"endorsed": endorsed.name, "subject": endorsement.subject_name}
    _announce(
        session, principal, settings, endorsement, kind, to=endorser,
        title=L_("%(endorsed)s accepted your endorsement of %(subject)s", **names)
        if accepted
        else L_("%(endorsed)s declined your endorsement of %(subject)s", **names),
        body=L_("Their credentials now carry it.")
        if accepted
        else L_("Their credentials issued from now on do not carry it."),
    )  # fmt: skip


def _announce(
    session: Session,
    principal: Principal | None,
    settings: Settings,
    endorsement: Endorsement,
    event_type: str,
    *,
    to: Organisation,
    title: str,
    body: str,
) -> None:
    """Tell an organisation of a step: its admins on Notifications (not the one who acted), its
    own systems by webhook (the event type is the same name in both)."""
    notifications.notify_members(
        session,
        to.id,
        notifications.NewNotification(
            "", event_type, title, body, f"/manage/endorsements?organisation={to.slug}"
        ),
        actor=principal,
        settings=settings,
    )
    webhooks.endorsement_event(session, settings, to.id, event_type, endorsement)


def _withdraw(
    session: Session,
    principal: Principal | None,
    endorsement: Endorsement,
    reason: str,
    settings: Settings,
) -> None:
    organisation = session.get(Organisation, endorsement.endorser_id)
    assert organisation is not None
    status = credentials.DocumentStatus(
        endorsement.status_list_id, endorsement.status_index, "revocation"
    )
    credentials.change_document_status(
        session, status, endorsement.document, organisation, action="revoked", settings=settings
    )
    endorsement.state = EndorsementState.withdrawn
    endorsement.withdrawn_at = utcnow()
    endorsement.withdrawn_reason = reason
    record_audit(
        session, principal, "endorsements.withdraw", organisation_id=endorsement.endorser_id,
        object_type="endorsement", object_id=endorsement.id,
        details={"reason": reason, "subject_id": endorsement.subject_id},
    )  # fmt: skip
    session.flush()


def withdraw(
    session: Session,
    principal: Principal | None,
    settings: Settings,
    endorsement_id: str,
    reason: str,
) -> Endorsement:
    """The endorser's admins withdraw a pending or accepted endorsement: its status entry is
    revoked (the list re-signed at once), so every verifier sees it in credentials that carry it,
    and new credentials no longer embed it."""
    endorsement = get_endorsement(session, principal, endorsement_id)
    if principal is not None and not can_manage(principal, endorsement.endorser_id):
        raise EndorsementForbidden("Only the endorser's admins withdraw an endorsement.")
    cleaned = checked_text(reason, "reason", MAX_REASON, "Give a reason for withdrawing.")
    if endorsement.state is EndorsementState.withdrawn:
        raise EndorsementError("This endorsement is already withdrawn.")
    before = endorsement.state
    _withdraw(session, principal, endorsement, cleaned, settings)
    if before is not EndorsementState.declined:  # a declined one is no longer their concern
        endorsed = session.get(Organisation, endorsement.endorsed_id)
        endorser = session.get(Organisation, endorsement.endorser_id)
        assert endorsed is not None and endorser is not None
        body = (
            L_(
                "Reason given: %(reason)s. Credentials that carry it now show it as withdrawn.",
                reason=cleaned,
            )
            if before is EndorsementState.accepted
            else L_("Reason given: %(reason)s.", reason=cleaned)
        )
        _announce(
            session, principal, settings, endorsement, notifications.ENDORSEMENT_WITHDRAWN,
            to=endorsed,
            title=L_("%(endorser)s withdrew its endorsement of %(subject)s",
                     endorser=endorser.name, subject=endorsement.subject_name),
            body=body,
        )  # fmt: skip
    return endorsement


def _states(states: Sequence[str] | None) -> list[EndorsementState]:
    try:
        return [EndorsementState(state) for state in states or ()]
    except ValueError as error:
        names = ", ".join(state.value for state in EndorsementState)
        raise EndorsementError(f"state must be one of {names}.", field="state") from error


def listing(
    session: Session, column: Any, organisation_id: str, states: Sequence[str] | None
) -> list[Endorsement]:
    """Endorsements whose ``column`` (endorser_id or endorsed_id) is the organisation, newest
    first, in ``states`` when given (no permission check: callers check or are trusted)."""
    query = select(Endorsement).where(column == organisation_id)
    chosen = _states(states)
    if chosen:
        query = query.where(Endorsement.state.in_(chosen))
    return list(session.scalars(query.order_by(Endorsement.created_at.desc(), Endorsement.id)))


def given(
    session: Session, principal: Principal, organisation: str, states: Sequence[str] | None = None
) -> list[Endorsement]:
    """Endorsements the organisation made, newest first (its admins)."""
    org = managed_organisation(session, principal, organisation)
    return listing(session, Endorsement.endorser_id, org.id, states)


def received(
    session: Session, principal: Principal, organisation: str, states: Sequence[str] | None = None
) -> list[Endorsement]:
    """Endorsements of the organisation and its definitions, newest first (its admins)."""
    org = managed_organisation(session, principal, organisation)
    return listing(session, Endorsement.endorsed_id, org.id, states)


def _in_force(now: datetime) -> Any:
    return (Endorsement.state == EndorsementState.accepted) & or_(
        Endorsement.valid_until.is_(None), Endorsement.valid_until > now
    )


def accepted_of_definition(session: Session, definition_id: str) -> list[Endorsement]:
    """The endorsements in force of any version of a definition (its public page)."""
    return list(
        session.scalars(
            select(Endorsement)
            .where(Endorsement.definition_id == definition_id, _in_force(utcnow()))
            .order_by(Endorsement.accepted_at)
        )
    )


def accepted_of_issuer(session: Session, organisation_id: str) -> list[Endorsement]:
    """The endorsements in force of the issuer itself (its public page)."""
    return list(
        session.scalars(
            select(Endorsement)
            .where(
                Endorsement.endorsed_id == organisation_id,
                Endorsement.subject_kind == SubjectKind.issuer,
                _in_force(utcnow()),
            )
            .order_by(Endorsement.accepted_at)
        )
    )


def organisations_by_id(
    session: Session, endorsements: Sequence[Endorsement]
) -> dict[str, Organisation]:
    """The endorsers and endorsed of these endorsements, by id (one query)."""
    ids = {e.endorser_id for e in endorsements} | {e.endorsed_id for e in endorsements}
    if not ids:
        return {}
    found = session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    return {org.id: org for org in found}

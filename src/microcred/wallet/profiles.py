"""A learner's public profile: one address showing the credentials they chose, verified live.

Nothing is public until the learner publishes. They pick a handle (the address
``/people/{handle}``), a headline, and which credentials appear: ones earned here and ones they
imported. A credential that stops being valid — revoked, suspended, expired, or an import that
no longer verifies — drops off the public page by itself, without the learner's action, and
comes back if it is reinstated. A published profile is not searchable: search by employers
needs its own consent (``talent_search``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microcred.accounts.models import User
from microcred.accounts.service import (
    Principal,
    grant_consent,
    has_consent,
    record_audit,
    withdraw_consent,
)
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.errors import NotFound
from microcred.wallet.models import ImportedCredential, LearnerProfile, ProfileItem
from microcred.wallet.service import WalletError, achievement_skills

HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
MAX_HEADLINE = 200
MAX_ITEMS = 200
PUBLIC_NAME_CONSENT = "public_name_on_credentials"
"""The recipient's name is shown on their credentials' public pages only with this consent."""


class ProfileError(WalletError):
    """A profile that cannot be saved as asked (a taken or malformed handle, a foreign item)."""

    status_code = 422


@dataclass(frozen=True)
class ProfileEntry:
    """One credential as the public sees it on a profile."""

    kind: str  # "earned" (issued here, verified live) or "imported" (verified on import)
    name: str
    issuer_name: str
    issued_on: datetime
    valid_until: datetime | None
    page_url: str | None
    """The public verification page (absolute, for JSON and for sharing)."""
    page_path: str | None
    """The same page as a path on this server (for links in its own pages)."""
    skills: tuple[str, ...]
    credential_id: str


@dataclass(frozen=True)
class PublicProfile:
    handle: str
    name: str
    headline: str
    entries: list[ProfileEntry]
    hidden: int
    """Chosen credentials not shown because they are no longer valid."""
    skills: list[tuple[str, int]] = field(default_factory=list)
    """Each skill named by a shown credential, with how many credentials attest it."""


def suggest_handle(name: str) -> str:
    """A handle made from a display name: ``Ana María Silva`` → ``ana-maria-silva``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    handle = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return handle if HANDLE.match(handle) else ""


def profile_of(session: Session, user_id: str) -> LearnerProfile | None:
    return session.get(LearnerProfile, user_id)


def published_handles(session: Session, user_ids: Sequence[str]) -> dict[str, str]:
    """The handle of each of these learners who has published a profile."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(LearnerProfile.user_id, LearnerProfile.handle).where(
            LearnerProfile.user_id.in_(user_ids), LearnerProfile.published.is_(True)
        )
    )
    return {user_id: handle for user_id, handle in rows}


def chosen_items(session: Session, user_id: str) -> list[ProfileItem]:
    return list(
        session.scalars(
            select(ProfileItem).where(ProfileItem.user_id == user_id).order_by(ProfileItem.position)
        )
    )


def _owned(
    session: Session, model: type[IssuedCredential] | type[ImportedCredential], column: Any,
    user_id: str, ids: Sequence[str],
) -> set[str]:  # fmt: skip
    if not ids:
        return set()
    found = session.scalars(select(model.id).where(model.id.in_(ids), column == user_id))
    return set(found)


def save_profile(
    session: Session,
    principal: Principal,
    *,
    handle: str,
    headline: str = "",
    published: bool = False,
    credential_ids: Sequence[str] = (),
    imported_ids: Sequence[str] = (),
) -> LearnerProfile:
    """Create or replace the signed-in learner's profile and its chosen credentials, at once."""
    handle = handle.strip().lower()
    if not HANDLE.match(handle):
        raise ProfileError(
            "The handle must be 3 to 40 characters: lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit.",
            field="handle",
        )
    headline = " ".join(headline.split())
    if len(headline) > MAX_HEADLINE:
        raise ProfileError(f"The headline is over {MAX_HEADLINE} characters.", field="headline")
    credential_ids, imported_ids = (
        list(dict.fromkeys(credential_ids)),
        list(dict.fromkeys(imported_ids)),
    )
    if len(credential_ids) + len(imported_ids) > MAX_ITEMS:
        raise ProfileError(f"A profile shows at most {MAX_ITEMS} credentials.", field="items")
    user_id = principal.user_id
    taken = session.scalar(
        select(LearnerProfile.user_id).where(
            LearnerProfile.handle == handle, LearnerProfile.user_id != user_id
        )
    )
    if taken is not None:
        raise ProfileError(f"The handle {handle!r} is taken; choose another.", field="handle")
    foreign = set(credential_ids) - _owned(
        session, IssuedCredential, IssuedCredential.recipient_user_id, user_id, credential_ids
    )
    foreign |= set(imported_ids) - _owned(
        session, ImportedCredential, ImportedCredential.user_id, user_id, imported_ids
    )
    if foreign:
        raise ProfileError(
            "Only credentials in your own wallet can be shown on your profile.", field="items"
        )
    profile = session.get(LearnerProfile, user_id)
    was_published = profile is not None and profile.published
    if profile is None:
        profile = LearnerProfile(user_id=user_id, handle=handle)
        session.add(profile)
    profile.handle, profile.headline, profile.published = handle, headline, published
    session.execute(delete(ProfileItem).where(ProfileItem.user_id == user_id))
    items = [("credential", i) for i in credential_ids] + [("imported", i) for i in imported_ids]
    session.add_all(
        ProfileItem(
            user_id=user_id,
            credential_id=item_id if kind == "credential" else None,
            imported_id=item_id if kind == "imported" else None,
            position=position,
        )
        for position, (kind, item_id) in enumerate(items)
    )
    if published != was_published:
        record_audit(
            session, principal, "profile.published" if published else "profile.unpublished",
            object_type="profile", object_id=handle,
        )  # fmt: skip
    session.flush()
    return profile


def set_public_name(session: Session, user_id: str, shown: bool) -> None:
    """Grant or withdraw the consent to show the learner's name on their credentials' pages."""
    if shown and not has_consent(session, user_id, PUBLIC_NAME_CONSENT):
        grant_consent(session, user_id, PUBLIC_NAME_CONSENT)
    elif not shown:
        withdraw_consent(session, user_id, PUBLIC_NAME_CONSENT)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _skills(document: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for _, name in achievement_skills(document) if name))


def _earned_entry(row: IssuedCredential, base_url: str, now: datetime) -> ProfileEntry | None:
    until = row.valid_until and _aware(row.valid_until)
    if row.state != CredentialState.active or (until is not None and until <= now):
        return None
    issuer = row.document.get("issuer")
    return ProfileEntry(
        kind="earned",
        name=row.achievement_name,
        issuer_name=str(issuer.get("name", "")) if isinstance(issuer, Mapping) else "",
        issued_on=_aware(row.valid_from),
        valid_until=until,
        page_url=f"{base_url}/credentials/{row.id}",
        page_path=f"/credentials/{row.id}",
        skills=_skills(row.document),
        credential_id=str(row.document.get("id") or row.id),
    )


def _imported_entry(row: ImportedCredential) -> ProfileEntry | None:
    if not row.verified:
        return None
    return ProfileEntry(
        kind="imported",
        name=row.achievement_name,
        issuer_name=row.issuer_name,
        issued_on=_aware(row.earned_at),
        valid_until=None,
        page_url=None,
        page_path=None,
        skills=_skills(row.credential),
        credential_id=str(row.credential.get("id") or row.achievement_id),
    )


def _skill_counts(entries: Iterable[ProfileEntry]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for entry in entries:
        for skill in entry.skills:
            counts[skill] = counts.get(skill, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


def public_profile(
    session: Session, handle: str, base_url: str, *, now: datetime | None = None
) -> PublicProfile:
    """The published profile at ``handle``; an unpublished or unknown one is not found."""
    now = now or datetime.now(UTC)
    profile = session.scalar(
        select(LearnerProfile).where(
            LearnerProfile.handle == handle.lower(), LearnerProfile.published.is_(True)
        )
    )
    if profile is None:
        raise NotFound("No public profile at this address.")
    user = session.get(User, profile.user_id)
    items = chosen_items(session, profile.user_id)
    earned = {
        row.id: row
        for row in session.scalars(
            select(IssuedCredential).where(
                IssuedCredential.id.in_([i.credential_id for i in items if i.credential_id]),
                IssuedCredential.recipient_user_id == profile.user_id,
            )
        )
    }
    imported = {
        row.id: row
        for row in session.scalars(
            select(ImportedCredential).where(
                ImportedCredential.id.in_([i.imported_id for i in items if i.imported_id]),
                ImportedCredential.user_id == profile.user_id,
            )
        )
    }
    base = base_url.rstrip("/")
    entries: list[ProfileEntry] = []
    hidden = 0
    for item in items:
        entry: ProfileEntry | None = None
        if item.credential_id in earned:
            entry = _earned_entry(earned[item.credential_id], base, now)
        elif item.imported_id in imported:
            entry = _imported_entry(imported[item.imported_id])
        if entry is None:
            hidden += 1
        else:
            entries.append(entry)
    return PublicProfile(
        handle=profile.handle,
        name=user.name if user is not None else "",
        headline=profile.headline,
        entries=entries,
        hidden=hidden,
        skills=_skill_counts(entries),
    )

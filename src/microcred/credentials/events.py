"""What other capabilities may react to: credentials issued, status changes, bulk jobs done.

Capabilities built on credentials (pathways, webhooks) register a listener here instead of being
called by name, so this capability never imports them and no entry point (web, CLI, bulk job,
automatic award) can leave one out. Listeners run in the change's own transaction, after its rows
are written: what a listener raises propagates, and the caller's transaction rolls back with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.orm import Session

from microcred.settings import Settings

if TYPE_CHECKING:
    from microcred.credentials.models import BulkJob, CredentialState, IssuedCredential


@dataclass(frozen=True)
class IssuedEvent:
    """Credentials just written, as their rows' column values (bulk issuance inserts rows
    without ORM objects; ``recipient_user_id``, ``definition_id``, ``organisation_id`` and ``id``
    are always there)."""

    credentials: tuple[Mapping[str, Any], ...]
    settings: Settings


@dataclass(frozen=True)
class StatusChangeEvent:
    """Credentials that were just revoked, suspended or reinstated (``state`` is the new one)."""

    credentials: tuple[IssuedCredential, ...]
    state: CredentialState
    reason: str
    settings: Settings


@dataclass(frozen=True)
class JobCompletedEvent:
    """A bulk issuance job that has just issued its last row (its counts are final)."""

    job: BulkJob
    settings: Settings


Event = TypeVar("Event")


class Listeners(Generic[Event]):
    """An ordered set of callables notified of one kind of event."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Session, Event], None]] = []

    def register(
        self, listener: Callable[[Session, Event], None]
    ) -> Callable[[Session, Event], None]:
        """Add ``listener`` (usable as a decorator); registering it twice has no effect."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def remove(self, listener: Callable[[Session, Event], None]) -> None:
        self._listeners.remove(listener)

    def __call__(self) -> tuple[Callable[[Session, Event], None], ...]:
        return tuple(self._listeners)

    def notify(self, session: Session, event: Event) -> None:
        for listener in tuple(self._listeners):
            listener(session, event)


issued = Listeners[IssuedEvent]()
status_changed = Listeners[StatusChangeEvent]()
job_completed = Listeners[JobCompletedEvent]()

"""Checkpoints in the background of the web server.

:class:`Checkpointer` wakes every ``poll_seconds`` and calls
:func:`microcred.ledger.service.checkpoint_if_due` in its own transaction: a checkpoint is
signed (and anchored, when anchoring is enabled) once the log has grown and the last checkpoint
is ``checkpoint_interval_seconds`` old. A failure is logged and tried again at the next wake-up;
it never reaches a request. Each web worker runs one; the database decides which of them signs.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from microcred.background import BackgroundLoop
from microcred.ledger import service
from microcred.ledger.config import LedgerSettings
from microcred.settings import Settings

log = logging.getLogger(__name__)
MAX_POLL_SECONDS = 60.0


class Checkpointer(BackgroundLoop):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        ledger_settings: LedgerSettings,
        poll_seconds: float | None = None,
    ) -> None:
        super().__init__("microcred-checkpoints")
        self._sessions = sessions
        self._settings = settings
        self._ledger_settings = ledger_settings
        self.poll_seconds = poll_seconds or min(
            float(ledger_settings.checkpoint_interval_seconds), MAX_POLL_SECONDS
        )

    def run_once(self) -> bool:
        """One wake-up: True when a checkpoint was signed. The checkpoint commits before it is
        anchored, so a chain that does not answer delays only the anchor (``microcred ledger
        anchor`` catches up), never the checkpoint."""
        with self._sessions() as session:  # most wake-ups find nothing to do: read only
            if not service.checkpoint_due(session, ledger_settings=self._ledger_settings):
                return False
        with self._sessions.begin() as session:
            checkpoint = service.checkpoint_if_due(
                session, self._settings, ledger_settings=self._ledger_settings
            )
            if checkpoint is None:
                return False
            checkpoint_id, size = checkpoint.id, checkpoint.tree_size
        log.info("Signed checkpoint of %d leaves", size)
        if self._ledger_settings.anchoring_enabled:
            from microcred.ledger.anchoring import EvmAnchorClient
            from microcred.ledger.models import LedgerCheckpoint

            with self._sessions.begin() as session:
                signed = session.get(LedgerCheckpoint, checkpoint_id)
                assert signed is not None
                client = EvmAnchorClient.from_settings(self._ledger_settings)
                service.anchor_checkpoint(session, signed, client)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.run_once()
            except Exception:  # logged; the next wake-up tries again
                log.exception("Background checkpoint failed")

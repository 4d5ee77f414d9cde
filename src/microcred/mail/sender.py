"""The web server's mail sender: :func:`~microcred.mail.service.send_pending` every
``mail_interval_seconds``, and finished messages older than 30 days deleted hourly."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from microcred.background import BackgroundLoop
from microcred.mail import service
from microcred.settings import Settings

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


class Mailer(BackgroundLoop):
    """Sends queued e-mail in the background of the web server."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        super().__init__("microcred-mail")
        self._sessions = sessions
        self._settings = settings
        # One SMTP attempt may take the timeout at each step; let stop() wait for it.
        self.stop_timeout = max(self.stop_timeout, 3 * settings.smtp_timeout_seconds)

    def _run(self) -> None:
        pruned_at = 0.0
        while True:
            try:
                if time.monotonic() - pruned_at >= PRUNE_EVERY.total_seconds():
                    service.prune(self._sessions)
                    pruned_at = time.monotonic()
                while (
                    service.send_pending(self._sessions, self._settings).attempted
                    and not self._stop.is_set()
                ):
                    pass
            except Exception:  # logged; the next round tries again
                log.exception("Sending mail failed")
            if self._stop.wait(self._settings.mail_interval_seconds):
                return

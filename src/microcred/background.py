"""A daemon thread that loops until stopped: the web server's background work (ledger
checkpoints, webhook deliveries, expiry reminders) each subclass it and implement ``_run``,
waiting on ``self._stop`` between rounds so that ``stop()`` ends them promptly."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class BackgroundLoop(ABC):
    stop_timeout: float = 10.0

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.stop_timeout if timeout is None else timeout)

    @abstractmethod
    def _run(self) -> None:
        """The thread's whole life: rounds of work until ``self._stop`` is set."""

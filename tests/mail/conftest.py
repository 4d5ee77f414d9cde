"""Fixtures for the mail tests. The SMTP server (``smtp_server``) and the settings sending to it
(``mail_settings``) live in :mod:`tests.mail.smtp`, exposed to every folder by tests/conftest.py."""

from __future__ import annotations

import pytest

from microcred.settings import Settings
from tests.mail.smtp import free_port


@pytest.fixture
def refused_settings(settings: Settings) -> Settings:
    """Settings sending to a loopback port nobody listens on: every connection is refused."""
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})

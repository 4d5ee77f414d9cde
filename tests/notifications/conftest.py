"""Notification fixtures: the credential definitions of tests/credentials/service."""

from __future__ import annotations

from tests.credentials.service.conftest import academy_definition_id, definition_id, skills

__all__ = ["academy_definition_id", "definition_id", "skills"]

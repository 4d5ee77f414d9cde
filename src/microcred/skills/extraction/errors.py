"""Errors of skill extraction: each names the field at fault and maps to a 4xx or exit code 2."""

from __future__ import annotations

from microcred.errors import MicrocredError


class ExtractionError(MicrocredError):
    """Text that cannot be read for skills (empty, binary, too large) or a missing model."""


class VocabularyEmpty(ExtractionError):
    """No skills are loaded, so there is nothing to match against."""

    status_code = 409

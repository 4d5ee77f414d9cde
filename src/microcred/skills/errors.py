"""The skills capability's exception family."""

from __future__ import annotations

from microcred.errors import MicrocredError


class SkillError(MicrocredError):
    """A skills taxonomy request or file that cannot be used as it is."""


class SkillNotFound(SkillError):
    status_code = 404


class TaxonomyFileError(SkillError):
    """A taxonomy file is missing, malformed or inconsistent; ``field`` names file and line."""

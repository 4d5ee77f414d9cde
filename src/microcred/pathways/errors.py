"""The pathways capability's exception family."""

from __future__ import annotations

from microcred.errors import MicrocredError


class PathwayError(MicrocredError):
    """A bad requirement tree, pathway, credit recommendation or articulation rule."""


class ArticulationConflict(PathwayError):
    status_code = 409

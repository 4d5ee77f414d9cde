"""The market capability's errors; each carries a user-facing message and the field at fault."""

from __future__ import annotations

from microcred.errors import MicrocredError


class MarketError(MicrocredError):
    """A market request or file that cannot be processed as given."""


class PostingFileError(MarketError):
    """A postings file that cannot be read at all (not a bad row: those are reported by line)."""

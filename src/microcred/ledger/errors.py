"""The ledger capability's exception family."""

from __future__ import annotations

from microcred.errors import MicrocredError


class LedgerError(MicrocredError):
    """A ledger request or artefact that cannot be accepted, with a user-facing reason."""


class ProofError(LedgerError):
    """An inclusion or consistency proof that does not verify (or cannot even be read)."""


class CheckpointError(LedgerError):
    """A checkpoint or signed note that is malformed or whose signature does not verify."""


class AuditFailure(LedgerError):
    """An independent monitor found a fork, a shrunken log or a rewritten history."""

    status_code = 409


class AnchorError(LedgerError):
    """Writing a root to the chain, or confirming it there, failed."""

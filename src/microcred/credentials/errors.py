"""The credentials capability's exception family."""

from __future__ import annotations

from microcred.errors import MicrocredError


class CredentialError(MicrocredError):
    """A credential, key, proof or context that cannot be processed, with a user-facing reason."""

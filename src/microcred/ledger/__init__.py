"""Tamper-evident public ledger: an RFC 9162 Merkle log of credential events, signed checkpoints,
proofs, witnesses, independent audit and optional blockchain anchoring."""

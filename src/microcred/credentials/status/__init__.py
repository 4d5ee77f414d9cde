"""Credential status: Bitstring Status List v1.0."""

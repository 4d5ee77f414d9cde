"""Securing formats: Data Integrity (eddsa-rdfc/jcs-2022), Ed25519Signature2020, JOSE."""

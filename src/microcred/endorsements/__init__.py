"""Endorsements: an organisation vouches for another's credential definition or issuer profile
with a signed OB 3.0 EndorsementCredential, embedded in new credentials once accepted."""

"""Users, organisations, roles, API tokens, consent and the audit log."""

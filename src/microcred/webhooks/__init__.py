"""Outgoing webhooks: issuers' own systems hear about credential events, signed per Standard
Webhooks, written to an outbox in the event's own transaction and delivered with retries."""

"""Outbound e-mail: an outbox of messages written in the caller's transaction and sent by a
background loop (or ``microcred mail send``), over SMTP or into a directory of ``.eml`` files.
Off unless an operator configures ``MICROCRED_SMTP_URL`` or ``MICROCRED_MAIL_DIR``."""

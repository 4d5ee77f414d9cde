"""Database engine, sessions and the declarative base shared by every capability."""

from microcred.db.base import Base, TimestampMixin, new_id, utcnow
from microcred.db.engine import create_db_engine, make_session_factory, transaction

__all__ = [
    "Base",
    "TimestampMixin",
    "create_db_engine",
    "make_session_factory",
    "new_id",
    "transaction",
    "utcnow",
]

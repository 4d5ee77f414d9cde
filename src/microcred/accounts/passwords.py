"""Argon2id password hashing (RFC 9106 parameters from argon2-cffi)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=2)
def hasher(fast: bool = False) -> PasswordHasher:
    """The default hasher; ``fast`` (tests only) trades strength for speed."""
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    return PasswordHasher()


def hash_password(password: str, *, fast: bool = False) -> str:
    return hasher(fast).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


_DUMMY_HASH: list[str] = []


def burn_verification_time(password: str) -> None:
    """Spend the time of one verification so unknown e-mails are not told apart by timing."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hasher().hash("not-a-real-password"))
    verify_password(_DUMMY_HASH[0], password)

"""Memoisation for functions that also see untrusted text.

``functools.lru_cache`` keeps its arguments alive: a verifier that caches, say, a verification
method id would keep up to ``maxsize`` of whatever anyone posts to ``/api/v1/verify`` — each up to
the request size limit. :func:`short_text_cache` remembers only calls whose text arguments are
short (every legitimate identifier, key and status list is), and simply computes the others.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

R = TypeVar("R")


def _text_length(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, tuple):
        return sum(_text_length(item) for item in value)
    return 0


def short_text_cache(
    maxsize: int, max_chars: int = 2_048
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """An LRU cache of ``maxsize`` calls for calls whose string arguments (also inside tuples)
    total at most ``max_chars`` characters; longer calls run uncached."""

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        cached = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def call(*args: Any) -> R:
            if sum(_text_length(argument) for argument in args) > max_chars:
                return function(*args)
            return cached(*args)

        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call

    return decorate

"""short_text_cache: remembers calls with short text, computes the others without keeping them."""

from __future__ import annotations

from microcred.caching import short_text_cache
from microcred.credentials.dids import did_web_to_url


def test_short_calls_are_remembered_and_long_ones_are_not_kept() -> None:
    calls: list[str] = []

    @short_text_cache(maxsize=8, max_chars=10)
    def shout(text: str, extra: tuple[str, ...] = ()) -> str:
        calls.append(text)
        return text.upper() + "".join(extra)

    assert shout("abc") == "ABC" and shout("abc") == "ABC"
    assert calls == ["abc"]  # the second call came from the cache
    long = "x" * 11
    assert shout(long) == long.upper() and shout(long) == long.upper()
    assert calls == ["abc", long, long]
    assert shout("ab", ("c" * 9,)) == "ABccccccccc" and shout("ab", ("c" * 9,))
    assert calls[-2:] == ["ab", "ab"]  # text inside tuples counts too
    assert shout.cache_info().currsize == 1  # type: ignore[attr-defined]


def test_a_posted_identifier_of_any_length_is_not_kept_by_the_did_cache() -> None:
    before = did_web_to_url.cache_info().currsize  # type: ignore[attr-defined]
    did = "did:web:example.org:" + "a" * 100_000
    assert did_web_to_url(did).startswith("https://example.org/")
    assert did_web_to_url.cache_info().currsize == before  # type: ignore[attr-defined]

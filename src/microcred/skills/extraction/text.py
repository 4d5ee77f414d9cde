"""Reading free text: tokens with character offsets, input checks and a small language guess.

Tokens are compared by the same *match key* as the taxonomy's label index
(:func:`microcred.skills.index.match_key`): casefolded, accent-free, lightly stemmed, so
"Managing Projects" in a posting meets the label "manage projects".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from microcred.skills.extraction.errors import ExtractionError
from microcred.skills.index import normalise, stem

MAX_TEXT_CHARS = 200_000
"""Longer texts are cut here (a 10 MB posting is a paste accident, not a posting)."""

_TOKEN = re.compile(r"[^\W_]+[+#]*|[+#]+")
_WORD = re.compile(r"[^\W\d_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (easier to read and edit)."""
    return frozenset(words.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": word_set(
        "the and of to in a for with is are you we our be as on will or an this that your "
        "have at by from it can all work team experience skills"
    ),
    "de": word_set(
        "der die das und in zu den mit von für ist ein eine wir sie auf im dem des nicht "
        "sich bei als auch oder ihre unsere werden"
    ),
    "fr": word_set(
        "le la les et de des du un une pour en avec est vous nous dans sur au aux qui que "
        "par votre notre sont être"
    ),
    "es": word_set(
        "el la los las y de del en un una para con es por que se su sus al como tu nuestro "
        "experiencia"
    ),
    "it": word_set(
        "il lo la gli le e di del della in un una per con che è si al alla sono nostro esperienza"
    ),
    "nl": word_set("de het een en van in met voor op je wij zijn is ervaring dat die te"),
    "pt": word_set("o a os as e de do da em um uma para com que por se no na experiência"),
}
MIN_WORDS_FOR_LANGUAGE = 12


@dataclass(frozen=True, slots=True)
class Token:
    key: str
    start: int
    end: int


@lru_cache(maxsize=200_000)
def token_key(surface: str) -> str:
    """The match key of one token (cached: job postings repeat their vocabulary)."""
    return " ".join(stem(word) for word in normalise(surface).split())


def tokenise(text: str) -> list[Token]:
    """Word tokens with their offsets in ``text``; ``c++`` and ``c#`` stay whole."""
    tokens: list[Token] = []
    for found in _TOKEN.finditer(text):
        key = token_key(found.group())
        if key:
            tokens.append(Token(key, found.start(), found.end()))
    return tokens


def label_key(label: str) -> tuple[str, ...]:
    """The match keys of a label's words: two labels with the same key read the same."""
    return tuple(token.key for token in tokenise(label))


def check_text(text: str, field: str = "text") -> str:
    """Refuse empty or binary text; cut very long text to :data:`MAX_TEXT_CHARS`."""
    if not text or not text.strip():
        raise ExtractionError("The text is empty.", field=field)
    sample = text[:4096]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > max(8, len(sample) // 50):
        raise ExtractionError("The text looks binary, not readable text.", field=field)
    return text[:MAX_TEXT_CHARS]


def decode_bytes(data: bytes, field: str = "file") -> str:
    """UTF-8 (with or without BOM), falling back to Windows-1252; binary data is refused."""
    if b"\x00" in data[:4096]:
        raise ExtractionError("The file looks binary, not readable text.", field=field)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def guess_language(text: str) -> str | None:
    """ISO 639-1 code by stop-word share, or None when the text is too short to tell."""
    words = _WORD.findall(text[:8_000].casefold())
    if len(words) < MIN_WORDS_FOR_LANGUAGE:
        return None
    counts = Counter(words)
    shares = {
        language: sum(counts[word] for word in stopwords) / len(words)
        for language, stopwords in _STOPWORDS.items()
    }
    best = max(shares, key=lambda language: shares[language])
    return best if shares[best] >= 0.05 else None

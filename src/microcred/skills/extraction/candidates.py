"""Candidate phrases for semantic matching: short runs of words between punctuation.

Skills in postings are short verb or noun phrases ("manage stakeholder expectations",
"SQL databases"). We cut the text at punctuation and at clause words, strip lead-ins such as
"ability to" or "experience with", and keep phrases of one to :data:`MAX_WORDS` words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from microcred.skills.extraction.text import Token, word_set

MAX_WORDS = 6
MIN_CHARS = 3

_BREAK_WORDS = word_set(
    "and or but while which who that where when if because as including such e g etc "
    "our we you your they their us is are was be will would should must can could"
)
_LEAD_INS = word_set(
    "a an the to of in on for with within at by from into using use ability able abl "
    "experience experienc knowledge knowledg skill skills strong good excellent excellen "
    "solid proven deep great understanding understand familiarity familiar proficiency "
    "proficient expertise expert demonstrated demonstrat advanced basic working work "
    "hand hands on practical relevant similar related year years plus also very highly "
    "high"
)
_TRAILING = word_set("a an the to of in on for with at by from skill skills")
_PUNCTUATION_GAP = re.compile(r"[^\s\w+#-]")


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    end: int
    text: str


def _runs(text: str, tokens: list[Token]) -> list[list[Token]]:
    runs: list[list[Token]] = []
    current: list[Token] = []
    previous_end: int | None = None
    for token in tokens:
        gap = text[previous_end : token.start] if previous_end is not None else ""
        if current and (_PUNCTUATION_GAP.search(gap) or "\n" in gap):
            runs.append(current)
            current = []
        if token.key in _BREAK_WORDS:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(token)
        previous_end = token.end
    if current:
        runs.append(current)
    return runs


def candidates(text: str, tokens: list[Token]) -> list[Candidate]:
    """Phrases worth embedding, each with its span in ``text``."""
    found: list[Candidate] = []
    for run in _runs(text, tokens):
        while run and run[0].key in _LEAD_INS:
            run = run[1:]
        while run and run[-1].key in _TRAILING:
            run = run[:-1]
        if not run:
            continue
        for start in range(0, len(run), MAX_WORDS):
            piece = run[start : start + MAX_WORDS]
            span = text[piece[0].start : piece[-1].end]
            if len(span) >= MIN_CHARS and not span.isdigit():
                found.append(Candidate(piece[0].start, piece[-1].end, span))
    return found

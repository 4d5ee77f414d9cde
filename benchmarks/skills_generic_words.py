"""Rebuild the generic one-word label list of the extraction gazetteer from SkillSpan train.

Run: ``.venv/bin/python benchmarks/skills_generic_words.py [--database FILE]``. Every one-word
gazetteer match on train sentences 1,501–4,800 is checked against the gold skill and knowledge
spans; a word seen at least ``--min-count`` times that lies inside a gold span at most
``--max-share`` of the time is generic. The grid of cuts is scored by overlap F1 on train
sentences 1–1,500 (the dev split is never read), and the list for the chosen cut is printed in the
form ``src/microcred/skills/extraction/generic_words.py`` keeps it.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections import Counter
from pathlib import Path

from microcred.settings import get_settings
from microcred.skills.extraction import SkillExtractor, gazetteer
from microcred.skills.extraction.text import tokenise

sys.path.insert(0, str(Path(__file__).resolve().parent))
import skills_quality as quality

Match = tuple[quality.Span, float, str | None]


def matches(extractor: SkillExtractor, sentences: list[quality.Sentence]) -> list[list[Match]]:
    """Each sentence's gazetteer matches as token spans, with the key of one-word matches."""
    found = []
    texts = [sentence.text for sentence in sentences]
    for sentence, result in zip(sentences, extractor.extract_many(texts, "gazetteer"), strict=True):
        rows = []
        for match in result.skills:
            span = quality.token_span(sentence, match.start, match.end)
            if span is not None:
                key = tokenise(match.text)[0].key if span[0] == span[1] else None
                rows.append((span, match.confidence, key))
        found.append(rows)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", type=Path, help="SQLite file with (or for) the taxonomy")
    args = parser.parse_args()
    folder = get_settings().shared_dir / "data" / "skillspan"
    train = quality.load_split(folder / "train.jsonl.gz", 0)
    learn, tuning = train[1500:], train[:1500]
    # Measure every one-word match: the list being rebuilt must not filter its own evidence.
    gazetteer.GENERIC_WORDS = frozenset()
    extractor = quality.build_extractor(args.database)
    seen, inside = Counter[str](), Counter[str]()
    for sentence, rows in zip(learn, matches(extractor, learn), strict=True):
        for span, _, key in set(rows):
            if key:
                seen[key] += 1
                inside[key] += any(a <= span[1] and span[0] <= b for a, b in sentence.gold)
    tuned = matches(extractor, tuning)
    gold = [sentence.gold for sentence in tuning]

    def generic(min_count: int, max_share: float) -> set[str]:
        return {k for k in seen if seen[k] >= min_count and inside[k] / seen[k] <= max_share}

    def best(words: set[str]) -> tuple[float, quality.Scores]:
        def scored(threshold: float) -> quality.Scores:
            spans = [[s for s, c, k in rows if c >= threshold and k not in words] for rows in tuned]
            return quality.score(gold, spans)

        threshold = max(quality.GAZETTEER_GRID, key=lambda t: scored(t).overlap_f1)
        return threshold, scored(threshold)

    print(f"{'min count':>9} {'max share':>9} {'words':>6} {'threshold':>9} {'overlap F1':>10}")
    results = []
    for min_count in (2, 3, 5):
        for max_share in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
            words = generic(min_count, max_share)
            threshold, scores = best(words)
            results.append((scores.overlap_f1, min_count, max_share, words, threshold))
            print(
                f"{min_count:>9} {max_share:>9.1f} {len(words):>6} {threshold:>9.3f} "
                f"{scores.overlap_f1:>10.3f}"
            )
    _, min_count, max_share, words, threshold = max(results, key=lambda row: row[0])
    print(f"\nchosen: min count {min_count}, max share {max_share}, threshold {threshold}")
    print(textwrap.fill(" ".join(sorted(words)), width=96))


if __name__ == "__main__":
    main()

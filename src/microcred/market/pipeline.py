"""Postings ingestion: read → parse → extract skills, classify, locate → de-duplicate → store.

The work on a chunk of rows (:func:`process_chunk`) is a pure function of the rows and the
prepared :class:`Resources`, so the same code runs in this process (``engine="local"``) or as
Ray tasks (``engine="ray"``) for corpora that outgrow one machine. Duplicate checks and writes
stay in the driver, in file order, so results and checkpoints are identical on both engines.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from microcred.market.dedup import exact_key, minhash
from microcred.market.errors import MarketError
from microcred.market.locations import normalise_location
from microcred.market.occupations import OccupationClassifier
from microcred.market.postings import Posting, RowError, parse_posting
from microcred.market.readers import Row, read_rows
from microcred.market.store import MarketStore, StoredPosting
from microcred.skills.extraction import Mode, SkillExtractor
from microcred.skills.extraction.errors import ExtractionError

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")
DEFAULT_CHUNK = 2000
MAX_REPORTED_ERRORS = 1000


@dataclass
class Resources:
    """What processing a chunk needs; built once and shipped once to each Ray worker."""

    extractor: SkillExtractor
    classifier: OccupationClassifier
    mode: Mode = "gazetteer"


@dataclass
class ChunkResult:
    postings: list[StoredPosting]
    errors: list[RowError]
    last_line: int
    labels: dict[str, str]


@dataclass
class IngestReport:
    source: str
    engine: Engine
    rows_read: int = 0
    inserted: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    bad_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    resumed_from_line: int = 0
    already_done: bool = False

    def summary(self) -> str:
        if self.already_done:
            return f"{self.source}: already ingested, nothing to do."
        resumed = f", resumed after line {self.resumed_from_line}" if self.resumed_from_line else ""
        return (
            f"{self.source}: {self.rows_read} rows read{resumed}; {self.inserted} postings stored, "
            f"{self.exact_duplicates} exact and {self.near_duplicates} near duplicates skipped, "
            f"{self.bad_rows} bad rows."
        )


def _extract(resources: Resources, postings: list[Posting]) -> list[tuple[list[str], str | None]]:
    texts = [f"{posting.title}\n{posting.text}" for posting in postings]
    try:
        extractions = resources.extractor.extract_many(texts, resources.mode)
        return [(extraction.uris, extraction.language) for extraction in extractions]
    except ExtractionError:
        results: list[tuple[list[str], str | None]] = []
        for text in texts:
            try:
                extraction = resources.extractor.extract(text, resources.mode)
                results.append((extraction.uris, extraction.language))
            except ExtractionError:
                results.append(([], None))
        return results


def process_chunk(rows: list[Row], resources: Resources, source: str) -> ChunkResult:
    """Parse and enrich a chunk of rows; bad rows become errors with their line numbers."""
    errors: list[RowError] = []
    postings: list[Posting] = []
    for line, raw in rows:
        parsed = raw if isinstance(raw, RowError) else parse_posting(raw, line)
        (errors if isinstance(parsed, RowError) else postings).append(parsed)  # type: ignore[arg-type]
    stored: list[StoredPosting] = []
    labels: dict[str, str] = {}
    for posting, (uris, language) in zip(postings, _extract(resources, postings), strict=True):
        location = normalise_location(posting.location)
        occupation = resources.classifier.classify(posting.title)
        stored.append(
            StoredPosting(
                posting_id=exact_key(posting.title, posting.employer, posting.text),
                source=source,
                line=posting.line,
                title=posting.title,
                employer=posting.employer,
                location=posting.location,
                region=location.region,
                region_code=location.region_code,
                country=location.country,
                remote=location.remote,
                posted=posting.posted,
                occupation_uri=occupation.uri if occupation else None,
                occupation_label=occupation.label if occupation else None,
                occupation_code=occupation.code if occupation else None,
                salary_annual=posting.salary.annual if posting.salary else None,
                currency=posting.salary.currency if posting.salary else None,
                language=language,
                truncated=posting.truncated,
                skills=uris,
                signature=minhash(f"{posting.title} {posting.text}"),
            )
        )
    for concept in _concepts_of(resources.extractor, stored):
        labels[concept[0]] = concept[1]
    return ChunkResult(stored, errors, rows[-1][0] if rows else 0, labels)


def _concepts_of(
    extractor: SkillExtractor, postings: list[StoredPosting]
) -> Iterator[tuple[str, str]]:
    wanted = {uri for posting in postings for uri in posting.skills}
    for concept in extractor.concepts:
        if concept.uri in wanted:
            yield concept.uri, concept.preferred_label


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


ChunkRunner = Callable[[Iterator[list[Row]]], Iterator[ChunkResult]]


def _local_runner(resources: Resources, source: str) -> ChunkRunner:
    def run(chunks: Iterator[list[Row]]) -> Iterator[ChunkResult]:
        for chunk in chunks:
            yield process_chunk(chunk, resources, source)

    return run


def _ray_runner(resources: Resources, source: str, workers: int) -> ChunkRunner:
    try:
        import ray
    except ImportError:
        raise MarketError(
            "The Ray engine needs the ray extra: pip install 'microcred[ray]'.", field="engine"
        ) from None
    if not ray.is_initialized() and os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False)
    elif not ray.is_initialized():
        ray.init(
            num_cpus=workers, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True
        )
    remote_process = ray.remote(process_chunk)
    shared = ray.put(resources)

    def run(chunks: Iterator[list[Row]]) -> Iterator[ChunkResult]:
        in_flight: deque[Any] = deque()
        for chunk in chunks:
            in_flight.append(remote_process.remote(chunk, shared, source))
            if len(in_flight) >= workers * 2:
                yield ray.get(in_flight.popleft())
        while in_flight:
            yield ray.get(in_flight.popleft())

    return run


def ingest_file(
    path: Path,
    store: MarketStore,
    resources: Resources,
    *,
    engine: Engine = "local",
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 2,
    restart: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest one file, resuming from its checkpoint; ``on_progress(rows, bytes_or_rows)``."""
    if engine not in ENGINES:
        raise MarketError(f"Unknown engine {engine!r}: use local or ray.", field="engine")
    if chunk_size < 1:
        raise MarketError("The chunk size must be at least 1.", field="chunk_size")
    digest = file_digest(path)
    state = store.load_state()
    files: dict[str, Any] = state.setdefault("files", {})
    entry: dict[str, Any] = {"path": str(path), "line": 0, "parts": 0, "done": False}
    if not restart:
        entry = files.get(digest, entry)
    report = IngestReport(source=path.name, engine=engine, resumed_from_line=int(entry["line"]))
    if entry.get("done"):
        report.already_done = True
        return report
    duplicates = store.duplicate_index()
    runner = (
        _ray_runner(resources, path.name, workers)
        if engine == "ray"
        else _local_runner(resources, path.name)
    )
    for result in runner(_chunks(read_rows(path, int(entry["line"])), chunk_size)):
        fresh: list[StoredPosting] = []
        for posting in result.postings:
            verdict = duplicates.check(posting.posting_id, posting.signature)
            if verdict == "exact":
                report.exact_duplicates += 1
            elif verdict == "near":
                report.near_duplicates += 1
            else:
                fresh.append(posting)
        store.write_part(f"{digest[:16]}-{int(entry['parts']):06d}", fresh)
        store.merge_labels(result.labels)
        processed = len(result.postings) + len(result.errors)
        report.rows_read += processed
        report.inserted += len(fresh)
        report.bad_rows += len(result.errors)
        room = MAX_REPORTED_ERRORS - len(report.errors)
        report.errors.extend(result.errors[: max(room, 0)])
        entry = {**entry, "line": result.last_line, "parts": int(entry["parts"]) + 1}
        files[digest] = entry
        store.save_state(state)
        if on_progress is not None:
            on_progress(processed, result.last_line)
    files[digest] = {**entry, "done": True}
    store.save_state(state)
    store.build_cube()
    return report

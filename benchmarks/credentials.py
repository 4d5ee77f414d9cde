"""Credential throughput on one core: the Ed25519 floor, issuance and verification per format.

Run: ``.venv/bin/python benchmarks/credentials.py [--seconds 1.0]``. The process is pinned to one
CPU. Every iteration builds a distinct credential (its own id), so no cache sees the same
document twice; the JSON-LD context cache is warm, as it is in a running server.

Figures: operations per second, and the ratio to the raw Ed25519 rate (the floor: nothing that
signs or verifies once can be faster). The RDFC-1.0 line compares our canonicalisation with a
straightforward ``pyld.jsonld.normalize`` of the same credential, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any

from pyld import jsonld
from rich.console import Console
from rich.table import Table

from microcred.credentials.dids import DidResolver, did_key_from_public_key
from microcred.credentials.documents import Recipient, build_openbadge_credential
from microcred.credentials.jsonld.loader import document_loader
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.proofs import rdfc
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.proofs.ed25519_2020 import with_ed25519_2020_context
from microcred.credentials.proofs.jwt import JoseKey, sign_jwt
from microcred.credentials.status.bitstring import (
    BitstringStatusChecker,
    build_status_list_credential,
    new_bitstring,
    status_entry,
)
from microcred.credentials.verify import verify_credential

STATUS_URL = "https://north.example/status/1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to CPU {core}"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _round(operation: Callable[[], object], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(5):
            operation()
        done += 5
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def paired_rates(
    operation: Callable[[], object], floor: Callable[[], object], seconds: float, rounds: int = 5
) -> tuple[float, float]:
    """Best rates of ``operation`` and of ``floor``, measured in alternating rounds.

    On a shared machine the load drifts; alternating keeps each ratio to the floor honest, and
    the best round is the one least disturbed by other processes.
    """
    for _ in range(3):
        operation()
        floor()
    best_operation = best_floor = 0.0
    for _ in range(rounds):
        best_floor = max(best_floor, _round(floor, seconds / rounds / 2))
        best_operation = max(best_operation, _round(operation, seconds / rounds))
    return best_operation, best_floor


class Workload:
    def __init__(self) -> None:
        self.key = Ed25519Key.from_seed(bytes(range(32)))
        self.did = did_key_from_public_key(self.key.public_key)
        self.method = f"{self.did}#{self.did.removeprefix('did:key:')}"
        self.numbers = count()
        self.resolver = DidResolver()
        listing = build_status_list_credential(
            list_url=STATUS_URL,
            issuer=self.did,
            purpose="revocation",
            bitstring=new_bitstring(),
            valid_from=NOW,
        )
        self.status_checker = BitstringStatusChecker(lambda url: listing)

    def credential(self) -> dict[str, Any]:
        number = next(self.numbers)
        return build_openbadge_credential(
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
            issuer={"id": self.did, "name": "North College", "url": "https://north.example"},
            achievement={
                "id": "https://north.example/achievements/data-literacy",
                "name": "Data Literacy",
                "description": "Reads, questions and presents data.",
                "criteria": {"narrative": "Completed the course and a graded project."},
            },
            recipient=Recipient(email=f"learner{number}@example.org"),
            valid_from=NOW,
            results=[{"name": "Project grade", "value": "A"}],
            evidence=[{"id": "https://north.example/evidence/1", "name": "Final project"}],
            credential_status=status_entry(STATUS_URL, number % 131_072),
        )

    def verify(self, secured: Any) -> None:
        report = verify_credential(
            secured, resolver=self.resolver, status_checker=self.status_checker, now=NOW
        )
        if not report.valid:
            raise SystemExit(f"benchmark credential did not verify: {report.checks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    console = Console()
    pinning = pin_to_one_core()
    console.print(f"[bold]Credentials benchmark[/] — {cpu_model()}, {pinning}")

    work = Workload()
    message = bytes(64)
    signature = work.key.sign(message)

    def sign_floor() -> bytes:
        return work.key.sign(message)

    def verify_floor() -> bool:
        return work.key.verify(signature, message)

    table = Table(title="Per second on one core; ratio = rate / raw Ed25519 rate in the same run")
    for column in ("operation", "issue / s", "ratio", "verify / s", "ratio"):
        table.add_column(column, justify="right" if column != "operation" else "left")

    def measure(name: str, issue: Callable[[], Any]) -> None:
        samples = [issue() for _ in range(200)]
        cycle = iter(samples * 100_000)
        issued, signs = paired_rates(issue, sign_floor, seconds)
        verified, verifies = paired_rates(lambda: work.verify(next(cycle)), verify_floor, seconds)
        table.add_row(
            name,
            f"{issued:,.0f}",
            f"{issued / signs:.2f}",
            f"{verified:,.0f}",
            f"{verified / verifies:.2f}",
        )
        floors.append((signs, verifies))

    floors: list[tuple[float, float]] = []
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"):

        def issue_data_integrity(suite: str = suite) -> dict[str, Any]:
            document = work.credential()
            if suite == "Ed25519Signature2020":
                document = with_ed25519_2020_context(document)
            return add_proof(document, work.key, work.method, suite=suite)

        measure(suite, issue_data_integrity)
    for algorithm, form in (("RS256", "vc-jwt"), ("ES256", "vc-jwt"), ("EdDSA", "vc-jose")):
        key = (
            JoseKey.from_ed25519(work.key) if algorithm == "EdDSA" else JoseKey.generate(algorithm)  # type: ignore[arg-type]
        )

        def issue_jwt(key: JoseKey = key, form: str = form) -> str:
            return sign_jwt(work.credential(), key, embed_jwk=True, form=form)  # type: ignore[arg-type]

        measure(f"{'VC-JWT' if form == 'vc-jwt' else 'VC-JOSE'} {algorithm}", issue_jwt)
    for algorithm in ("RS256", "ES256"):
        other = JoseKey.generate(algorithm)  # type: ignore[arg-type]
        raw, signs = paired_rates(lambda other=other: other.sign(message), sign_floor, seconds)
        table.add_row(f"raw {algorithm} signature", f"{raw:,.0f}", f"{raw / signs:.2f}", "", "")
    best_sign = max(sign for sign, _ in floors)
    best_verify = max(verify for _, verify in floors)
    table.add_row(
        "raw Ed25519 (floor, best)", f"{best_sign:,.0f}", "1.00", f"{best_verify:,.0f}", "1.00"
    )
    console.print(table)

    sample = work.credential()
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    fast, baseline = paired_rates(
        lambda: rdfc.canonicalize(work.credential()),
        lambda: jsonld.normalize(sample, {**options, "documentLoader": document_loader}),
        seconds,
    )
    canon = Table(title="RDFC-1.0 canonicalisation of one OB 3.0 credential")
    for column in ("implementation", "per second", "speed-up"):
        canon.add_column(column, justify="right" if column != "implementation" else "left")
    canon.add_row("pyld.jsonld.normalize (baseline)", f"{baseline:,.0f}", "1.0x")
    canon.add_row("microcred fast path", f"{fast:,.0f}", f"{fast / baseline:.1f}x")
    console.print(canon)


if __name__ == "__main__":
    main()

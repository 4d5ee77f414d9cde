"""How fast could end-to-end issuance be on this machine at all? A deliberately bare pipeline.

Run: ``.venv/bin/python benchmarks/issuance_ceiling.py [--rounds 4] [--variant full]``.

It does only the irreducible work of one stored ``eddsa-jcs-2022`` credential, with none of the
product's checks: take a real credential issued by microcred as the shape, change its id,
recipient (salted e-mail hash) and status index, canonicalise it with orjson (no JCS safety
checks), SHA-256, sign with Ed25519, base58 the signature, and write the row, its ledger leaf and
two Merkle nodes with raw ``sqlite3.executemany`` into the same schema (every index kept), 250
per transaction. No validation, no status-list bookkeeping, no SQLAlchemy, no audit. The figure
printed is the ratio of this pipeline's rate to the raw Ed25519 signing rate measured around it,
per CPU second: an upper bound for ``benchmarks/issuance.py``'s end-to-end ratio, and the CPU
time of the database part (inserts and commit) per credential.

``--variant`` takes one part away to see what it costs: ``compact`` stores the document without
its achievement (as if the achievement were stored once per definition and referenced),
``no-ledger`` writes no leaf or nodes, ``no-database`` writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent))

from issuance import floor, issue_batched, setup

from microcred.credentials.keys import multibase_encode
from microcred.credentials.models import IssuedCredential


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--variant", choices=("full", "compact", "no-ledger", "no-database"), default="full"
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as tmp:
        sessions, settings, definition_id = setup(Path(tmp))
        issue_batched(sessions, settings, definition_id, "eddsa-jcs-2022", 300)
        with sessions() as session:
            document: dict[str, Any] = session.query(IssuedCredential).first().document  # type: ignore[union-attr]
        sessions.kw["bind"].dispose()
        db = sqlite3.connect(Path(tmp) / "issuance.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        columns = [row[1] for row in db.execute("PRAGMA table_info(issued_credentials)")]
        template = db.execute("SELECT * FROM issued_credentials LIMIT 1").fetchone()
        position = {name: index for index, name in enumerate(columns)}
        insert = (
            f"INSERT INTO issued_credentials ({','.join(columns)}) "
            f"VALUES ({','.join('?' * len(columns))})"
        )
        insert_leaf = (
            "INSERT INTO ledger_leaves (leaf_index, leaf_hash, event, credential_hash, issuer_id,"
            " recorded_at) VALUES (?,?,?,?,?,?)"
        )
        insert_node = "INSERT INTO ledger_nodes (level, node_index, hash) VALUES (?,?,?)"
        key = Ed25519PrivateKey.generate()
        unsigned = {name: value for name, value in document.items() if name != "proof"}
        proof = {name: value for name, value in document["proof"].items() if name != "proofValue"}
        subject = document["credentialSubject"]
        counter = [10**8]
        database_time = [0.0]

        def batch(size: int) -> None:
            rows, leaves, nodes = [], [], []
            for number in range(size):
                row_id, salt, index = uuid.uuid4().hex, os.urandom(16).hex(), counter[0]
                email_hash = hashlib.sha256(f"x{number}@example.org{salt}".encode()).hexdigest()
                identity = {**subject["identifier"][0], "identityHash": f"sha256${email_hash}"}
                credential = {
                    **unsigned,
                    "id": f"https://example.org/credentials/{row_id}",
                    "credentialSubject": {**subject, "identifier": [{**identity, "salt": salt}]},
                    "credentialStatus": {
                        **unsigned["credentialStatus"],
                        "statusListIndex": str(index),
                    },
                }
                digest = hashlib.sha256(
                    orjson.dumps(credential, option=orjson.OPT_SORT_KEYS)
                ).digest()
                config = hashlib.sha256(orjson.dumps(proof, option=orjson.OPT_SORT_KEYS)).digest()
                signature = key.sign(config + digest)
                signed = {
                    **credential,
                    "proof": {**proof, "proofValue": multibase_encode(signature)},
                }
                values = list(template)
                values[position["id"]] = row_id
                if args.variant == "compact":
                    signed["credentialSubject"] = {**signed["credentialSubject"], "achievement": ""}
                values[position["document"]] = orjson.dumps(signed).decode()
                values[position["idempotency_key"]] = None
                values[position["status_index"]] = index
                values[position["credential_hash"]] = digest.hex()
                values[position["ledger_leaf_index"]] = index
                rows.append(values)
                leaf = hashlib.sha256(b"\0" + digest).digest()
                leaves.append(
                    (
                        index,
                        leaf,
                        "issued",
                        digest,
                        "https://example.org/i",
                        "2026-11-23 09:00:00.000000",
                    )
                )
                nodes += [(0, index, leaf), (1, index, leaf)]
                counter[0] += 1
            if args.variant == "no-database":
                return
            start = time.process_time()
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, rows)
            if args.variant != "no-ledger":
                db.executemany(insert_leaf, leaves)
                db.executemany(insert_node, nodes)
            db.execute("COMMIT")
            database_time[0] += time.process_time() - start

        for _ in range(args.rounds):
            before, _verify = floor()
            start = time.process_time()
            for _batch in range(12):
                batch(250)
            per_credential = (time.process_time() - start) / 3000
            database, database_time[0] = database_time[0] / 3000, 0.0
            after, _verify = floor()
            sign = max(before.cpu, after.cpu)
            print(
                f"bare pipeline ({args.variant}): {1 / per_credential:,.0f} stored credentials per "
                f"CPU second "
                f"({per_credential * 1e6:.0f} us, database {database * 1e6:.0f} us); "
                f"raw Ed25519 sign {sign:,.0f}/s; "
                f"ratio {1 / per_credential / sign:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

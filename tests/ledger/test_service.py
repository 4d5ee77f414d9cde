"""The database-backed log: transactional appends, concurrency, proofs, checkpoints, witnesses."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.ledger import service
from microcred.ledger.errors import LedgerError, ProofError
from microcred.ledger.merkle import MemoryTree, verify_consistency, verify_inclusion
from microcred.ledger.models import LedgerHead, LedgerKey, LedgerLeaf, LedgerNode
from microcred.ledger.notes import COSIGNATURE_V1, NoteSigner, cosign_note, parse_note
from microcred.ledger.receipts import Receipt, verify_receipt
from microcred.settings import Settings
from tests.ledger.conftest import T0, credential_hash, make_leaves, record


def test_recorded_events_are_provable_against_a_signed_checkpoint(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        receipts = record(session, 21)
        checkpoint = service.create_checkpoint(session, settings)
    assert [r.leaf_index for r in receipts] == list(range(21))
    model = MemoryTree()
    model.extend(leaf.leaf_hash() for leaf in make_leaves(21))
    with sessions() as session:
        assert checkpoint.root_hash == model.root() == service.root_at(session, 21)
        for size in (1, 7, 16, 21):
            assert service.root_at(session, size) == model.root(size)
            for index in {0, size // 2, size - 1}:
                assert service.inclusion_proof(session, index, size) == model.inclusion_proof(
                    index, size
                )
            assert service.consistency_proof(session, size, 21) == model.consistency_proof(size, 21)
        receipt = service.receipt_for(session, 5)
        log_key = service.log_verifier(session)
    checks = verify_receipt(receipt.as_json(), log_key.encode(), credential_hash=credential_hash(5))
    assert [c.status for c in checks] == ["pass"]
    assert "leaf 5" in checks[0].reason


def test_record_event_commits_or_rolls_back_with_the_callers_transaction(
    sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), sessions.begin() as session:
        service.record_event(
            session,
            event="issued",
            credential_hash=credential_hash(1),
            issuer_id="org",
            at=T0,
        )
        raise RuntimeError("the issuance failed after the ledger append")
    with sessions() as session:
        assert service.tree_size(session) == 0
        assert session.scalars(select(LedgerLeaf)).all() == []
    with sessions.begin() as session:
        receipt = service.record_event(
            session,
            event="revoked",
            credential_hash=credential_hash(1),
            issuer_id="org",
            at=T0,
        )
    assert receipt.leaf_index == 0
    with sessions() as session:
        assert service.get_leaf(session, 0).event.value == "revoked"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event": "deleted"}, "event"),
        ({"credential_hash": b"short"}, "credential_hash"),
        ({"issuer_id": "has space"}, "issuer_id"),
        ({"issuer_id": ""}, "issuer_id"),
        ({"at": datetime(2025, 1, 1)}, "at"),
    ],
)
def test_bad_events_name_the_field_and_write_nothing(
    sessions: sessionmaker[Session], changes: dict[str, object], field: str
) -> None:
    event: dict[str, object] = {
        "event": "issued",
        "credential_hash": credential_hash(1),
        "issuer_id": "org",
        "at": T0,
    }
    event.update(changes)
    with pytest.raises(LedgerError) as caught, sessions.begin() as session:
        service.record_event(session, **event)  # type: ignore[arg-type]
    assert caught.value.field == field
    with sessions() as session:
        assert service.tree_size(session) == 0


@pytest.mark.both_databases
def test_concurrent_appends_never_share_an_index(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    threads_count, per_thread = 6, 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count)

    def append(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                with sessions.begin() as session:
                    service.record_events(
                        session, make_leaves(1, start=worker * 1000 + n, issuer=f"org-{worker}")
                    )
        except BaseException as error:  # surfaced below
            errors.append(error)

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    total = threads_count * per_thread
    with sessions.begin() as session:
        rows = session.scalars(select(LedgerLeaf).order_by(LedgerLeaf.leaf_index)).all()
        assert [row.leaf_index for row in rows] == list(range(total))
        assert len({row.credential_hash for row in rows}) == total
        model = MemoryTree()
        model.extend(row.leaf_hash for row in rows)
        assert service.create_checkpoint(session, settings).root_hash == model.root()
        assert session.scalars(select(LedgerNode)).all().__len__() == len(model.nodes)


def test_proofs_beyond_the_log_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        record(session, 4)
    with sessions() as session:
        with pytest.raises(ProofError, match="no tree of 5 leaves"):
            service.inclusion_proof(session, 1, 5)
        with pytest.raises(ProofError, match="not in a tree"):
            service.inclusion_proof(session, 4, 4)
        with pytest.raises(ProofError, match="at least as large"):
            service.consistency_proof(session, 4, 2)
        with pytest.raises(LedgerError, match="no leaf 9"):
            service.get_leaf(session, 9)


def test_the_log_key_is_sealed_with_the_master_key(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        signer = service.log_signer(session, settings)
    with sessions() as session:
        row = session.scalars(select(LedgerKey)).one()
        assert signer.seed not in row.sealed_private_key
        assert service.log_signer(session, settings).seed == signer.seed
        with pytest.raises(LedgerError, match="cannot be decrypted"):
            service.log_signer(session, settings.model_copy(update={"master_key": "other"}))


def test_checkpoints_refuse_a_rewritten_or_shrunken_store(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        record(session, 6)
        service.create_checkpoint(session, settings)
        record(session, 3, start=6)
    with sessions.begin() as session:
        session.execute(
            update(LedgerNode)
            .where(LedgerNode.level == 2, LedgerNode.node_index == 0)
            .values(hash=bytes(32))
        )
    with pytest.raises(ProofError, match="rewritten"), sessions.begin() as session:
        service.create_checkpoint(session, settings)
    with sessions.begin() as session:
        session.execute(update(LedgerHead).values(tree_size=4, edge=b"\x00" * 32))
    with pytest.raises(LedgerError, match="shrank"), sessions.begin() as session:
        service.create_checkpoint(session, settings)


def test_receipts_wait_for_a_checkpoint_and_fail_for_another_credential(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        record(session, 3)
        with pytest.raises(LedgerError, match="not covered by a checkpoint") as caught:
            service.receipt_for(session, 1)
        assert caught.value.status_code == 409
        service.create_checkpoint(session, settings)
        receipt = service.receipt_for(session, 1)
        key = service.log_verifier(session)
        assert [
            r.leaf_index for r in service.receipts_for_credential(session, credential_hash(2))
        ] == [2]
    wrong = verify_receipt(receipt, key, credential_hash=credential_hash(2))
    assert [c.status for c in wrong] == ["pass", "fail"]
    tampered = receipt.as_json()
    tampered["leaf"]["event"] = "revoked"
    assert verify_receipt(tampered, key)[0].status == "fail"
    shorter = receipt.as_json()
    shorter["inclusion_proof"] = shorter["inclusion_proof"][:-1]
    (check,) = verify_receipt(shorter, key)
    assert check.status == "fail" and "truncated" in check.reason
    assert verify_receipt({"type": "nonsense"}, key)[0].status == "fail"
    assert Receipt.from_json(receipt.as_json()) == receipt


def test_registered_witness_cosignatures_are_published_and_counted(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    witness = NoteSigner.generate("witness.example/w1", COSIGNATURE_V1)
    stranger = NoteSigner.generate("stranger.example/w9", COSIGNATURE_V1)
    with sessions.begin() as session:
        service.register_witness(session, witness.verifier.encode())
        with pytest.raises(LedgerError, match="already registered"):
            service.register_witness(session, witness.verifier.encode())
        with pytest.raises(LedgerError, match="cosignature/v1 key"):
            service.register_witness(session, NoteSigner.generate("x.example").verifier.encode())
        record(session, 5)
        checkpoint = service.create_checkpoint(session, settings)
        note = parse_note(service.published_note(checkpoint))
    by_stranger = note.with_signature(cosign_note(note.text, stranger, 1_800_000_000))
    with (
        pytest.raises(LedgerError, match="no cosignature by a registered witness"),
        sessions.begin() as session,
    ):
        service.add_cosignatures(session, by_stranger.encode())
    cosigned = note.with_signature(cosign_note(note.text, witness, 1_800_000_000)).encode()
    with sessions.begin() as session:
        assert [c.witness.name for c in service.add_cosignatures(session, cosigned)] == [
            "witness.example/w1"
        ]
        assert service.add_cosignatures(session, cosigned) == []
    with sessions() as session:
        latest = service.latest_checkpoint(session)
        assert latest is not None
        published = service.published_note(latest)
        receipt = service.receipt_for(session, 2)
        key = service.log_verifier(session)
    assert published == cosigned
    checks = verify_receipt(
        receipt, key, witness_keys=[witness.verifier.encode()], required_witnesses=1
    )
    assert checks[0].status == "pass" and "cosigned by witness.example/w1" in checks[0].reason
    (failed,) = verify_receipt(
        receipt, key, witness_keys=[witness.verifier, stranger.verifier], required_witnesses=2
    )
    assert failed.status == "fail" and "2 are required" in failed.reason


def test_checkpoint_proofs_link_successive_checkpoints(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        record(session, 10)
        first = service.create_checkpoint(session, settings, now=T0)
        record(session, 7, start=10)
        second = service.create_checkpoint(session, settings, now=T0 + timedelta(minutes=5))
        proof = service.consistency_proof(session, 10, 17)
        leaf_proof = service.inclusion_proof(session, 12, 17)
        leaf = service.get_leaf(session, 12)
        assert [c.tree_size for c in service.list_checkpoints(session)] == [17, 10]
        assert service.checkpoint_body(second).timestamp == int(
            (T0 + timedelta(minutes=5)).timestamp()
        )
    verify_consistency(10, 17, first.root_hash, second.root_hash, proof)
    verify_inclusion(12, 17, leaf.leaf_hash(), leaf_proof, second.root_hash)

"""Ledger operations over the database: append events, prove, checkpoint, cosign, receipts.

Other capabilities call :func:`record_event` inside *their* transaction, so an issuance and its
leaf commit or roll back together. Appends serialise on the head row (PostgreSQL row lock,
SQLite write lock) so two transactions never take the same leaf index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.db.base import utcnow
from microcred.db.fastinsert import insert_rows
from microcred.db.prepared import PreparedRead
from microcred.ledger.anchoring import EvmAnchorClient
from microcred.ledger.checkpoints import Checkpoint, parse_checkpoint
from microcred.ledger.config import LedgerSettings, get_ledger_settings
from microcred.ledger.errors import LedgerError, ProofError
from microcred.ledger.keys import decrypt_secret, encrypt_secret
from microcred.ledger.leaves import LeafData, LedgerEvent, parse_event
from microcred.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    TreeEdge,
    consistency_ranges,
    hashes_for,
    inclusion_ranges,
    root_from_lookup,
    verify_consistency,
)
from microcred.ledger.models import (
    HEAD_ID,
    LedgerAnchor,
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerHead,
    LedgerKey,
    LedgerLeaf,
    LedgerNode,
    LedgerWitness,
)
from microcred.ledger.notes import (
    COSIGNATURE_V1,
    ED25519,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    parse_note,
    sign_note,
    verify_cosignature,
)
from microcred.ledger.receipts import LedgerCheck, Receipt
from microcred.settings import Settings

LOOKUP_CHUNK = 300


@dataclass(frozen=True)
class LeafReceipt:
    """Where an event landed: its index in the log and its RFC 9162 leaf hash."""

    leaf_index: int
    leaf_hash: bytes


# --- appending ------------------------------------------------------------------------------


def _lock_head(session: Session) -> LedgerHead:
    """The head row, locked for this transaction (created on first use)."""
    if session.get_bind().dialect.name == "sqlite":
        # A write statement takes SQLite's database write lock now (waiting busy_timeout),
        # rather than failing later when a read transaction tries to upgrade.
        session.execute(
            update(LedgerHead)
            .where(LedgerHead.id == HEAD_ID)
            .values(tree_size=LedgerHead.tree_size)
            .execution_options(synchronize_session=False)
        )
    query = (
        select(LedgerHead)
        .where(LedgerHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(query).one_or_none()
    if head is None:
        try:
            with session.begin_nested():
                session.add(LedgerHead(id=HEAD_ID, tree_size=0, edge=b"", updated_at=utcnow()))
        except IntegrityError:
            pass  # another transaction created it first; lock theirs below
        head = session.scalars(query).one()
    return head


def record_events(session: Session, leaves: Sequence[LeafData]) -> list[LeafReceipt]:
    """Append events in order, in the caller's transaction (bulk issuance uses one call)."""
    head = _lock_head(session)
    edge = TreeEdge.decode(head.tree_size, head.edge)
    leaf_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    receipts: list[LeafReceipt] = []
    for leaf in leaves:
        digest = leaf.leaf_hash()
        index = edge.size
        node_rows.extend(
            {"level": level, "node_index": node_index, "hash": value}
            for (level, node_index), value in edge.append(digest)
        )
        leaf_rows.append(
            {
                "leaf_index": index,
                "leaf_hash": digest,
                "event": leaf.event.value,
                "credential_hash": leaf.credential_hash,
                "issuer_id": leaf.issuer_id,
                "recorded_at": leaf.at,
            }
        )
        receipts.append(LeafReceipt(index, digest))
    if leaf_rows:
        # Core inserts on the tables: executemany without the ORM's per-row bookkeeping.
        insert_rows(session, cast(Table, LedgerLeaf.__table__), leaf_rows)
        insert_rows(session, cast(Table, LedgerNode.__table__), node_rows)
        head.tree_size = edge.size
        head.edge = edge.encode_peaks()
        head.updated_at = utcnow()
        session.flush()
    return receipts


def record_event(
    session: Session,
    *,
    event: LedgerEvent | str,
    credential_hash: bytes,
    issuer_id: str,
    at: datetime,
) -> LeafReceipt:
    """Record an issuance, revocation, suspension or reinstatement in the caller's transaction."""
    leaf = LeafData(parse_event(event), credential_hash, issuer_id, at)
    return record_events(session, [leaf])[0]


# --- reading and proving ----------------------------------------------------------------------


def _head(session: Session) -> tuple[int, bytes]:
    head = session.scalars(
        select(LedgerHead).where(LedgerHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).one_or_none()
    if head is None:
        return 0, EMPTY_ROOT
    return head.tree_size, TreeEdge.decode(head.tree_size, head.edge).root()


def tree_size(session: Session) -> int:
    return _head(session)[0]


class _NodeStore:
    """Batched lookups of complete-subtree hashes: one indexed query per proof.

    The condition is grouped by level (``level = ? AND node_index IN (…)``) so both SQLite and
    PostgreSQL answer from the primary key, whatever the size of the log.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, wanted: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            by_level: dict[int, list[int]] = {}
            for level, index in wanted[start : start + LOOKUP_CHUNK]:
                by_level.setdefault(level, []).append(index)
            condition = or_(
                *(
                    and_(LedgerNode.level == level, LedgerNode.node_index.in_(indexes))
                    for level, indexes in by_level.items()
                )
            )
            rows = self.session.execute(
                select(LedgerNode.level, LedgerNode.node_index, LedgerNode.hash).where(condition)
            )
            found.update({(level, index): value for level, index, value in rows})
        return found


def _require_size(session: Session, size: int, field: str) -> None:
    current = tree_size(session)
    if not 0 <= size <= current:
        raise ProofError(
            f"The log has {current} leaves; there is no tree of {size} leaves yet.", field=field
        )


def root_at(session: Session, size: int) -> bytes:
    _require_size(session, size, "tree_size")
    return root_from_lookup(size, _NodeStore(session))


def inclusion_proof(session: Session, leaf_index: int, size: int) -> list[bytes]:
    _require_size(session, size, "tree_size")
    return hashes_for(inclusion_ranges(leaf_index, size), _NodeStore(session))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    _require_size(session, second, "second")
    return hashes_for(consistency_ranges(first, second), _NodeStore(session))


def get_leaf(session: Session, leaf_index: int) -> LeafData:
    row = session.get(LedgerLeaf, leaf_index)
    if row is None:
        raise LedgerError(
            f"There is no leaf {leaf_index} in the log.", field="leaf_index", status_code=404
        )
    return _leaf_data(row)


def _leaf_data(row: LedgerLeaf) -> LeafData:
    at = row.recorded_at if row.recorded_at.tzinfo else row.recorded_at.replace(tzinfo=UTC)
    return LeafData(LedgerEvent(row.event), row.credential_hash, row.issuer_id, at)


LEAF_COLUMNS = LedgerLeaf.__table__.c
LATEST_TREE_SIZE = select(func.max(LedgerCheckpoint.__table__.c.tree_size)).scalar_subquery()
"""The latest checkpoint's size, as a column for a query that also reads leaves."""
_LEAVES_OF_CREDENTIAL = PreparedRead(
    select(
        LEAF_COLUMNS.leaf_index,
        LEAF_COLUMNS.event,
        LEAF_COLUMNS.issuer_id,
        LEAF_COLUMNS.recorded_at,
        LATEST_TREE_SIZE,
    )
    .where(LEAF_COLUMNS.credential_hash == bindparam("credential_hash"))
    .order_by(LEAF_COLUMNS.leaf_index)
)

CredentialLeaves = tuple[list[tuple[int, LeafData]], int | None]
"""A credential's leaves (index, data) in order, and the latest checkpoint's size."""


def credential_leaves(
    credential_hash: bytes, rows: Sequence[Sequence[Any]], latest_tree_size: int | None
) -> CredentialLeaves:
    """:data:`CredentialLeaves` from rows of (leaf_index, event, issuer_id, recorded_at)."""
    leaves = [
        (
            index,
            LeafData(
                LedgerEvent(event),
                credential_hash,
                issuer_id,
                at if at.tzinfo else at.replace(tzinfo=UTC),
            ),
        )
        for index, event, issuer_id, at in sorted(rows, key=lambda row: row[0])
    ]
    return leaves, latest_tree_size


def _leaves_and_coverage(session: Session, credential_hash: bytes) -> CredentialLeaves:
    """A credential's leaves and the latest checkpoint's size, in one indexed query over plain
    columns (verification runs it for every credential)."""
    rows = _LEAVES_OF_CREDENTIAL.all(session, {"credential_hash": credential_hash})
    return credential_leaves(
        credential_hash, [row[:4] for row in rows], rows[0][4] if rows else None
    )


def leaves_for_credential(session: Session, credential_hash: bytes) -> list[tuple[int, LeafData]]:
    return _leaves_and_coverage(session, credential_hash)[0]


def event_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(LedgerLeaf.event, func.count()).group_by(LedgerLeaf.event))
    counts = {event.value: 0 for event in LedgerEvent}
    counts.update({event: int(count) for event, count in rows})
    return counts


# --- the log key and checkpoints ---------------------------------------------------------------


def log_signer(
    session: Session, settings: Settings, ledger_settings: LedgerSettings | None = None
) -> NoteSigner:
    """The log's signing key, created (and sealed with the master key) on first use."""
    row = session.scalars(select(LedgerKey).order_by(LedgerKey.created_at.desc())).first()
    if row is None:
        _lock_head(session)
        row = session.scalars(select(LedgerKey)).first()
    if row is None:
        origin = (ledger_settings or get_ledger_settings()).origin_for(settings.base_url)
        signer = NoteSigner.generate(origin, ED25519)
        row = LedgerKey(
            name=signer.name,
            public_key=signer.verifier.public_key,
            sealed_private_key=encrypt_secret(settings.master_key, signer.seed),
        )
        session.add(row)
        session.flush()
        return signer
    return NoteSigner.from_seed(
        row.name, decrypt_secret(settings.master_key, row.sealed_private_key)
    )


def log_verifier(session: Session) -> NoteVerifier:
    row = session.scalars(select(LedgerKey).order_by(LedgerKey.created_at.desc())).first()
    if row is None:
        raise LedgerError("The log has no key yet: create a checkpoint first.", status_code=404)
    return NoteVerifier(row.name, ED25519, row.public_key)


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.scalars(
        select(LedgerCheckpoint).order_by(
            LedgerCheckpoint.tree_size.desc(), LedgerCheckpoint.created_at.desc()
        )
    ).first()


def checkpoint_of_size(session: Session, size: int) -> LedgerCheckpoint:
    found = session.scalars(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.tree_size == size)
        .order_by(LedgerCheckpoint.created_at.desc())
    ).first()
    if found is None:
        raise LedgerError(f"No checkpoint of {size} leaves.", field="tree_size", status_code=404)
    return found


def list_checkpoints(
    session: Session, *, limit: int = 50, before_size: int | None = None
) -> list[LedgerCheckpoint]:
    query = select(LedgerCheckpoint)
    if before_size is not None:
        query = query.where(LedgerCheckpoint.tree_size < before_size)
    query = query.order_by(LedgerCheckpoint.tree_size.desc(), LedgerCheckpoint.created_at.desc())
    return list(session.scalars(query.limit(max(1, min(limit, 500)))))


def create_checkpoint(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    ledger_settings: LedgerSettings | None = None,
) -> LedgerCheckpoint:
    """Sign the current head. Refuses to sign a tree that does not extend the last checkpoint."""
    signer = log_signer(session, settings, ledger_settings)
    size, root = _head(session)
    previous = latest_checkpoint(session)
    if previous is not None:
        if previous.tree_size > size:
            raise LedgerError(
                f"The log shrank from {previous.tree_size} to {size} leaves; refusing to sign."
            )
        verify_consistency(
            previous.tree_size,
            size,
            previous.root_hash,
            root,
            consistency_proof(session, previous.tree_size, size),
        )
    moment = now or utcnow()
    body = Checkpoint(signer.name, size, root, int(moment.timestamp())).body()
    row = LedgerCheckpoint(
        tree_size=size,
        root_hash=root,
        signed_note=sign_note(body, signer).encode(),
        created_at=moment,
    )
    session.add(row)
    session.flush()
    return row


def checkpoint_due(
    session: Session,
    *,
    now: datetime | None = None,
    ledger_settings: LedgerSettings | None = None,
    size: int | None = None,
) -> bool:
    """Whether the log has grown since the last checkpoint and that one is at least
    ``checkpoint_interval_seconds`` old (or there is none yet). Reads only."""
    ledger_settings = ledger_settings or get_ledger_settings()
    size = tree_size(session) if size is None else size
    previous = latest_checkpoint(session)
    if size == 0 or (previous is not None and previous.tree_size >= size):
        return False
    if previous is None:
        return True
    signed_at = previous.created_at
    signed_at = signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC)
    elapsed = ((now or utcnow()) - signed_at).total_seconds()
    return elapsed >= ledger_settings.checkpoint_interval_seconds


def checkpoint_if_due(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    ledger_settings: LedgerSettings | None = None,
) -> LedgerCheckpoint | None:
    """Sign a checkpoint when :func:`checkpoint_due`, else None. The web server calls this in
    the background (:mod:`microcred.ledger.scheduler`), so the "next checkpoint" a credential's
    ledger check promises comes without a second process. Several workers may call it: the head
    is locked first, so the second finds the checkpoint made."""
    ledger_settings = ledger_settings or get_ledger_settings()
    moment = now or utcnow()
    size = _lock_head(session).tree_size
    if not checkpoint_due(session, now=moment, ledger_settings=ledger_settings, size=size):
        return None
    return create_checkpoint(session, settings, now=moment, ledger_settings=ledger_settings)


def published_note(checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint as served: the log's signature followed by witness cosignatures."""
    note = parse_note(checkpoint.signed_note)
    for cosignature in checkpoint.cosignatures:
        note = note.with_signature(NoteSignature.parse_line(cosignature.signature_line))
    return note.encode()


def checkpoint_body(checkpoint: LedgerCheckpoint) -> Checkpoint:
    return parse_checkpoint(parse_note(checkpoint.signed_note).text)


# --- witnesses ---------------------------------------------------------------------------------


def register_witness(session: Session, verifier_key: str) -> LedgerWitness:
    verifier = NoteVerifier.parse(verifier_key)
    if verifier.key_type != COSIGNATURE_V1:
        raise LedgerError(
            "A witness key is a cosignature/v1 key (type 0x04).", field="verifier_key"
        )
    existing = session.scalars(
        select(LedgerWitness).where(LedgerWitness.name == verifier.name)
    ).first()
    if existing is not None:
        raise LedgerError(
            f"A witness named '{verifier.name}' is already registered.",
            field="verifier_key",
            status_code=409,
        )
    witness = LedgerWitness(name=verifier.name, verifier_key=verifier.encode())
    session.add(witness)
    session.flush()
    return witness


def list_witnesses(session: Session) -> list[LedgerWitness]:
    return list(session.scalars(select(LedgerWitness).order_by(LedgerWitness.name)))


def add_cosignatures(session: Session, cosigned_note: str) -> list[LedgerCosignature]:
    """Accept a checkpoint note carrying cosignatures; keep those by registered witnesses."""
    note = parse_note(cosigned_note)
    size = parse_checkpoint(note.text).size
    candidates = session.scalars(
        select(LedgerCheckpoint).where(LedgerCheckpoint.tree_size == size)
    ).all()
    checkpoint = next((c for c in candidates if parse_note(c.signed_note).text == note.text), None)
    if checkpoint is None:
        raise LedgerError(
            "That checkpoint was never published by this log.",
            field="checkpoint",
            status_code=404,
        )
    already = {c.witness_id for c in checkpoint.cosignatures}
    accepted: list[LedgerCosignature] = []
    by_registered_witness = False
    for witness in list_witnesses(session):
        verifier = NoteVerifier.parse(witness.verifier_key)
        signature = next(
            (s for s in note.signatures if (s.name, s.key_id) == (verifier.name, verifier.key_id)),
            None,
        )
        if signature is None:
            continue
        by_registered_witness = True
        if witness.id in already:
            continue
        timestamp = verify_cosignature(SignedNote(note.text, (signature,)), verifier)
        row = LedgerCosignature(
            checkpoint_id=checkpoint.id,
            witness_id=witness.id,
            signed_at=datetime.fromtimestamp(timestamp, UTC),
            signature_line=signature.line(),
        )
        session.add(row)
        checkpoint.cosignatures.append(row)
        accepted.append(row)
    if not by_registered_witness:
        raise LedgerError(
            "The note carries no cosignature by a registered witness.", field="cosignature"
        )
    session.flush()
    return accepted


# --- receipts ----------------------------------------------------------------------------------


def receipt_for(
    session: Session, leaf_index: int, *, checkpoint: LedgerCheckpoint | None = None
) -> Receipt:
    """Leaf data, its inclusion proof and the (latest) checkpoint that covers it."""
    leaf = get_leaf(session, leaf_index)
    checkpoint = checkpoint or latest_checkpoint(session)
    if checkpoint is None or checkpoint.tree_size <= leaf_index:
        raise LedgerError(
            f"Leaf {leaf_index} is not covered by a checkpoint yet; the next checkpoint will "
            "cover it.",
            field="leaf_index",
            status_code=409,
        )
    proof = inclusion_proof(session, leaf_index, checkpoint.tree_size)
    return Receipt(leaf, leaf_index, tuple(proof), published_note(checkpoint))


def receipts_for_credential(session: Session, credential_hash: bytes) -> list[Receipt]:
    """Receipts for every checkpointed event of one credential (issuance, revocation …)."""
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        return []
    return [
        receipt_for(session, index, checkpoint=checkpoint)
        for index, _ in leaves_for_credential(session, credential_hash)
        if index < checkpoint.tree_size
    ]


# --- anchors -----------------------------------------------------------------------------------


def record_anchor(
    session: Session,
    checkpoint: LedgerCheckpoint,
    *,
    chain_id: int,
    tx_hash: str,
    sender: str,
    block_number: int | None,
    status: str,
) -> LedgerAnchor:
    anchor = LedgerAnchor(
        checkpoint_id=checkpoint.id,
        chain_id=chain_id,
        tx_hash=tx_hash,
        sender=sender,
        block_number=block_number,
        status=status,
    )
    session.add(anchor)
    checkpoint.anchors.append(anchor)
    session.flush()
    return anchor


def unanchored_checkpoints(session: Session, limit: int = 10) -> list[LedgerCheckpoint]:
    anchored = select(LedgerAnchor.checkpoint_id)
    return list(
        session.scalars(
            select(LedgerCheckpoint)
            .where(LedgerCheckpoint.id.not_in(anchored))
            .order_by(LedgerCheckpoint.tree_size.desc(), LedgerCheckpoint.created_at.desc())
            .limit(limit)
        )
    )


def latest_anchor(session: Session) -> LedgerAnchor | None:
    return session.scalars(select(LedgerAnchor).order_by(LedgerAnchor.created_at.desc())).first()


def anchor_checkpoint(
    session: Session, checkpoint: LedgerCheckpoint, client: EvmAnchorClient
) -> LedgerAnchor:
    """Write the checkpoint's root to the chain and record the transaction."""
    submitted = client.submit(checkpoint_body(checkpoint))
    return record_anchor(
        session,
        checkpoint,
        chain_id=submitted.chain_id,
        tx_hash=submitted.tx_hash,
        sender=submitted.sender,
        block_number=submitted.block_number,
        status="mined" if submitted.succeeded else "failed",
    )


def verify_anchor(session: Session, anchor: LedgerAnchor, client: EvmAnchorClient) -> LedgerCheck:
    """Confirm an anchor on the chain and remember the outcome."""
    check = client.confirm(anchor.tx_hash, checkpoint_body(anchor.checkpoint))
    anchor.status = {"pass": "confirmed", "warning": "mined", "fail": "failed"}[check.status]
    session.flush()
    return check


# --- what pages show ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """One event of a credential as its page shows it: the leaf, its receipt and the checks."""

    leaf_index: int
    leaf: LeafData
    receipt: Receipt | None
    checks: list[LedgerCheck]


def ledger_entries_for_credential(
    session: Session, credential_hash: bytes, *, known: CredentialLeaves | None = None
) -> list[LedgerEntry]:
    """Every event of a credential, verified against this log's own key like a verifier would.

    ``known``: its leaves, when the caller read them with its own query (verification does)."""
    from microcred.ledger.receipts import verify_receipt

    leaves, covered = known or _leaves_and_coverage(session, credential_hash)
    checkpoint = (
        latest_checkpoint(session)
        if covered is not None and any(index < covered for index, _ in leaves)
        else None
    )
    entries: list[LedgerEntry] = []
    for index, leaf in leaves:
        if checkpoint is None or index >= checkpoint.tree_size:
            pending = LedgerCheck(
                "ledger", "warning", f"Leaf {index} is recorded; the next checkpoint will cover it."
            )
            entries.append(LedgerEntry(index, leaf, None, [pending]))
            continue
        receipt = receipt_for(session, index, checkpoint=checkpoint)
        witnesses = [NoteVerifier.parse(w.verifier_key) for w in list_witnesses(session)]
        checks = verify_receipt(
            receipt,
            log_verifier(session),
            witness_keys=witnesses,
            credential_hash=credential_hash,
        )
        entries.append(LedgerEntry(index, leaf, receipt, checks))
    return entries


def growth_points(session: Session, limit: int = 200) -> list[tuple[datetime, int]]:
    rows = session.execute(
        select(LedgerCheckpoint.created_at, LedgerCheckpoint.tree_size)
        .order_by(LedgerCheckpoint.created_at.desc())
        .limit(limit)
    )
    return [
        (moment if moment.tzinfo else moment.replace(tzinfo=UTC), size) for moment, size in rows
    ]

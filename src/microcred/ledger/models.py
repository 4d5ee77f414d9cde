"""Ledger tables: leaves, complete-subtree hashes, the log head, keys, checkpoints, witnesses.

The log is append-only by construction: nothing in the service updates or deletes a leaf or a
node; the head row is the single point of serialisation for appends (row lock / write lock).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microcred.db.base import Base, id_column, utcnow

HEAD_ID = 1


class LedgerHead(Base):
    """The one row that says how big the log is and holds its right edge (compact range)."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    edge: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerLeaf(Base):
    __tablename__ = "ledger_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    event: Mapped[str] = mapped_column(String(16))
    credential_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    issuer_id: Mapped[str] = mapped_column(String(200), index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerNode(Base):
    """The hash of a complete subtree: leaves [index·2^level, (index+1)·2^level)."""

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerKey(Base):
    """The log's Ed25519 signing key; the private half sealed with the master key."""

    __tablename__ = "ledger_keys"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"
    __table_args__ = (Index("ix_ledger_checkpoints_tree_size_created", "tree_size", "created_at"),)

    id: Mapped[str] = id_column()
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    cosignatures: Mapped[list[LedgerCosignature]] = relationship(
        back_populates="checkpoint", order_by="LedgerCosignature.created_at"
    )
    anchors: Mapped[list[LedgerAnchor]] = relationship(
        back_populates="checkpoint", order_by="LedgerAnchor.created_at"
    )


class LedgerWitness(Base):
    """A witness whose cosignatures the log accepts and publishes (``name+id+key`` form)."""

    __tablename__ = "ledger_witnesses"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    verifier_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerCosignature(Base):
    __tablename__ = "ledger_cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "witness_id"),)

    id: Mapped[str] = id_column()
    checkpoint_id: Mapped[str] = mapped_column(ForeignKey("ledger_checkpoints.id"), index=True)
    witness_id: Mapped[str] = mapped_column(ForeignKey("ledger_witnesses.id"))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signature_line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    checkpoint: Mapped[LedgerCheckpoint] = relationship(back_populates="cosignatures")
    witness: Mapped[LedgerWitness] = relationship()


class LedgerAnchor(Base):
    """A checkpoint root written to an Ethereum-compatible chain."""

    __tablename__ = "ledger_anchors"

    id: Mapped[str] = id_column()
    checkpoint_id: Mapped[str] = mapped_column(ForeignKey("ledger_checkpoints.id"), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    sender: Mapped[str] = mapped_column(String(42))
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    checkpoint: Mapped[LedgerCheckpoint] = relationship(back_populates="anchors")

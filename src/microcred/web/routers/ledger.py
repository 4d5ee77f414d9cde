"""The public ledger: its page, the checkpoint at a stable URL, and the proofs API."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from microcred.accounts.models import Role
from microcred.errors import PermissionDenied
from microcred.ledger import service as ledger
from microcred.ledger.chart import growth_chart
from microcred.ledger.errors import LedgerError
from microcred.ledger.models import LedgerCheckpoint
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.rendering import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(item).decode() for item in items]


def _credential_hash(value: str) -> bytes:
    try:
        digest = bytes.fromhex(value.strip().removeprefix("sha256:"))
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise LedgerError(
            "credential_hash must be the 64 hex digits of the credential's SHA-256.",
            field="credential_hash",
        )
    return digest


# --- pages ------------------------------------------------------------------------------------


@pages.get("/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    credential: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    latest = ledger.latest_checkpoint(session)
    entries = None
    lookup_error = None
    if credential:
        try:
            entries = ledger.ledger_entries_for_credential(session, _credential_hash(credential))
        except LedgerError as error:
            lookup_error = error.message
    return render(
        request,
        "ledger/index.html",
        principal,
        size=ledger.tree_size(session),
        counts=ledger.event_counts(session),
        latest=latest,
        latest_note=ledger.published_note(latest) if latest else None,
        log_key=ledger.log_verifier(session).encode() if latest else None,
        checkpoints=ledger.list_checkpoints(session, limit=20),
        witnesses=ledger.list_witnesses(session),
        chart=Markup(growth_chart(ledger.growth_points(session))),  # numbers and escaped dates
        credential=credential,
        entries=entries,
        lookup_error=lookup_error,
    )


@pages.get("/ledger/checkpoint", response_class=PlainTextResponse)
def latest_checkpoint_note(session: DbSession) -> PlainTextResponse:
    """The latest signed checkpoint with witness cosignatures (C2SP signed note)."""
    latest = ledger.latest_checkpoint(session)
    if latest is None:
        raise LedgerError("The log has published no checkpoint yet.", status_code=404)
    return PlainTextResponse(
        ledger.published_note(latest),
        media_type=NOTE_MEDIA_TYPE,
        headers={"Cache-Control": "no-cache"},
    )


@pages.get("/ledger/key", response_class=PlainTextResponse)
def log_key(session: DbSession) -> PlainTextResponse:
    """The log's verifier key (name+id+key), for auditors, witnesses and verifiers."""
    return PlainTextResponse(ledger.log_verifier(session).encode() + "\n")


# --- API --------------------------------------------------------------------------------------


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64")
    created_at: datetime
    note: str = Field(description="C2SP signed note, with witness cosignatures")
    cosigned_by: list[str]
    anchors: list[dict[str, Any]]

    @classmethod
    def of(cls, checkpoint: LedgerCheckpoint) -> CheckpointOut:
        return cls(
            tree_size=checkpoint.tree_size,
            root_hash=base64.b64encode(checkpoint.root_hash).decode(),
            created_at=checkpoint.created_at,
            note=ledger.published_note(checkpoint),
            cosigned_by=[c.witness.name for c in checkpoint.cosignatures],
            anchors=[
                {
                    "chain_id": a.chain_id,
                    "tx_hash": a.tx_hash,
                    "block_number": a.block_number,
                    "status": a.status,
                }
                for a in checkpoint.anchors
            ],
        )


class LedgerStatusOut(BaseModel):
    tree_size: int
    log_key: str | None
    latest_checkpoint: CheckpointOut | None
    events: dict[str, int]


@api.get("", response_model=LedgerStatusOut, summary="Log size, key and latest checkpoint")
def status(session: DbSession) -> LedgerStatusOut:
    latest = ledger.latest_checkpoint(session)
    return LedgerStatusOut(
        tree_size=ledger.tree_size(session),
        log_key=ledger.log_verifier(session).encode() if latest else None,
        latest_checkpoint=CheckpointOut.of(latest) if latest else None,
        events=ledger.event_counts(session),
    )


@api.get("/checkpoints", response_model=list[CheckpointOut], summary="Checkpoints, newest first")
def checkpoints(
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_size: Annotated[int | None, Query(ge=0)] = None,
) -> list[CheckpointOut]:
    return [
        CheckpointOut.of(c)
        for c in ledger.list_checkpoints(session, limit=limit, before_size=before_size)
    ]


@api.get("/checkpoints/{tree_size}", response_model=CheckpointOut, summary="A checkpoint by size")
def checkpoint(tree_size: int, session: DbSession) -> CheckpointOut:
    return CheckpointOut.of(ledger.checkpoint_of_size(session, tree_size))


@api.post(
    "/checkpoints",
    response_model=CheckpointOut,
    status_code=201,
    summary="Sign a checkpoint of the current log now (platform or organisation admins)",
)
def create_checkpoint(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> CheckpointOut:
    if not (principal.is_platform_admin or principal.organisations_with(Role.admin)):
        raise PermissionDenied("Only administrators can sign checkpoints on demand.")
    return CheckpointOut.of(ledger.create_checkpoint(session, app_context(request).settings))


class CosignatureIn(BaseModel):
    checkpoint: str = Field(
        min_length=1,
        max_length=20_000,
        description="The published checkpoint note with the witness's cosignature line added",
    )


class CosignatureOut(BaseModel):
    accepted: list[str]


@api.post(
    "/cosignatures",
    response_model=CosignatureOut,
    summary="Submit witness cosignatures (accepted only from registered witness keys)",
)
def cosign(body: CosignatureIn, session: DbSession) -> CosignatureOut:
    accepted = ledger.add_cosignatures(session, body.checkpoint)
    return CosignatureOut(accepted=[row.witness.name for row in accepted])


class InclusionOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


@api.get("/proofs/inclusion", response_model=InclusionOut, summary="Inclusion proof of a leaf")
def inclusion(
    session: DbSession,
    leaf_index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int, Query(ge=1)],
) -> InclusionOut:
    proof = ledger.inclusion_proof(session, leaf_index, tree_size)
    leaf = ledger.get_leaf(session, leaf_index)
    return InclusionOut(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=base64.b64encode(leaf.leaf_hash()).decode(),
        root_hash=base64.b64encode(ledger.root_at(session, tree_size)).decode(),
        proof=_b64(proof),
    )


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


@api.get(
    "/proofs/consistency",
    response_model=ConsistencyOut,
    summary="Consistency proof between two tree sizes",
)
def consistency(
    session: DbSession,
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int, Query(ge=0)],
) -> ConsistencyOut:
    proof = ledger.consistency_proof(session, first, second)
    return ConsistencyOut(
        first=first,
        second=second,
        first_root=base64.b64encode(ledger.root_at(session, first)).decode(),
        second_root=base64.b64encode(ledger.root_at(session, second)).decode(),
        proof=_b64(proof),
    )


class LeafOut(BaseModel):
    leaf_index: int
    leaf_hash: str
    event: str
    credential_hash: str
    issuer_id: str
    at: str


@api.get("/leaves/{leaf_index}", response_model=LeafOut, summary="One leaf of the log")
def leaf(leaf_index: int, session: DbSession) -> LeafOut:
    data = ledger.get_leaf(session, leaf_index)
    return LeafOut(
        leaf_index=leaf_index,
        leaf_hash=base64.b64encode(data.leaf_hash()).decode(),
        **data.as_json(),
    )


@api.get(
    "/receipts/{leaf_index}",
    summary="A receipt for a leaf against the latest checkpoint",
    response_model=dict[str, Any],
)
def receipt(leaf_index: int, session: DbSession) -> dict[str, Any]:
    return ledger.receipt_for(session, leaf_index).as_json()


@api.get(
    "/receipts",
    summary="Receipts for every checkpointed event of a credential",
    response_model=list[dict[str, Any]],
)
def receipts(
    session: DbSession, credential_hash: Annotated[str, Query(max_length=80)]
) -> list[dict[str, Any]]:
    return [
        r.as_json()
        for r in ledger.receipts_for_credential(session, _credential_hash(credential_hash))
    ]


routers = [pages, api]

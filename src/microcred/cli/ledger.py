"""Ledger commands: ``microcred ledger …``, ``microcred audit`` and ``microcred witness …``.

``audit`` and ``witness cosign`` exit 1 when they catch the log misbehaving (bad signature,
fork, shrink, rewritten history) and 2 for unusable input, so monitors can alert on 1.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from microcred.cli.common import console, err_console, exits_cleanly, unit_of_work
from microcred.ledger.errors import AuditFailure, CheckpointError, LedgerError, ProofError
from microcred.settings import get_settings

EXIT_MISBEHAVIOUR = 1

ledger_app = typer.Typer(help="The tamper-evident public ledger.", no_args_is_help=True)
witness_app = typer.Typer(
    help="Run an independent witness that cosigns checkpoints.", no_args_is_help=True
)


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data))


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(item).decode() for item in items]


@ledger_app.command("status")
@exits_cleanly
def status() -> None:
    """Show the log size, its key and the latest checkpoint."""
    from microcred.ledger import service

    with unit_of_work() as session:
        latest = service.latest_checkpoint(session)
        console.print(f"Leaves: {service.tree_size(session)}")
        if latest is None:
            console.print("No checkpoint yet (microcred ledger checkpoint).")
            return
        console.print(f"Log key: {service.log_verifier(session).encode()}")
        console.print(service.published_note(latest), highlight=False)


def _checkpoint_once() -> None:
    from microcred.ledger import service
    from microcred.ledger.config import get_ledger_settings

    settings, ledger_settings = get_settings(), get_ledger_settings()
    with unit_of_work() as session:
        checkpoint = service.create_checkpoint(session, settings, ledger_settings=ledger_settings)
        console.print(
            f"Signed checkpoint of {checkpoint.tree_size} leaves, root {checkpoint.root_hash.hex()}"
        )
        if ledger_settings.anchoring_enabled:
            from microcred.ledger.anchoring import EvmAnchorClient

            anchor = service.anchor_checkpoint(
                session, checkpoint, EvmAnchorClient.from_settings(ledger_settings)
            )
            console.print(f"Anchored: transaction {anchor.tx_hash} in block {anchor.block_number}")


@ledger_app.command("checkpoint")
@exits_cleanly
def checkpoint(
    every: Annotated[
        int | None,
        typer.Option(help="Sign again every SECONDS (0: the configured interval) until stopped"),
    ] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many checkpoints")] = None,
) -> None:
    """Sign a checkpoint of the log now (and anchor it when anchoring is enabled)."""
    from microcred.ledger.config import get_ledger_settings

    if every is None:
        _checkpoint_once()
        return
    interval = every or get_ledger_settings().checkpoint_interval_seconds
    signed = 0
    while count is None or signed < count:
        if signed:
            time.sleep(interval)
        _checkpoint_once()
        signed += 1


@ledger_app.command("key")
@exits_cleanly
def key() -> None:
    """Print the log's verifier key (give it to auditors, witnesses and verifiers)."""
    from microcred.ledger import service

    with unit_of_work() as session:
        console.print(service.log_verifier(session).encode(), highlight=False)


@ledger_app.command("prove-inclusion")
@exits_cleanly
def prove_inclusion(
    leaf_index: Annotated[int, typer.Option(help="Index of the leaf")],
    tree_size: Annotated[int, typer.Option(help="Size of the tree to prove against")],
) -> None:
    """Print an inclusion proof (JSON, base64 hashes)."""
    from microcred.ledger import service

    with unit_of_work() as session:
        proof = service.inclusion_proof(session, leaf_index, tree_size)
        root = service.root_at(session, tree_size)
        leaf = service.get_leaf(session, leaf_index)
    _print_json(
        {
            "leaf_index": leaf_index,
            "tree_size": tree_size,
            "leaf_hash": base64.b64encode(leaf.leaf_hash()).decode(),
            "root_hash": base64.b64encode(root).decode(),
            "proof": _b64(proof),
        }
    )


@ledger_app.command("prove-consistency")
@exits_cleanly
def prove_consistency(
    first: Annotated[int, typer.Option(help="Size of the older tree")],
    second: Annotated[int, typer.Option(help="Size of the newer tree")],
) -> None:
    """Print a consistency proof between two tree sizes (JSON, base64 hashes)."""
    from microcred.ledger import service

    with unit_of_work() as session:
        proof = service.consistency_proof(session, first, second)
        roots = [service.root_at(session, first), service.root_at(session, second)]
    _print_json(
        {
            "first": first,
            "second": second,
            "first_root": _b64(roots)[0],
            "second_root": _b64(roots)[1],
            "proof": _b64(proof),
        }
    )


@ledger_app.command("receipt")
@exits_cleanly
def receipt(
    leaf_index: Annotated[int, typer.Argument(help="Index of the leaf")],
    output: Annotated[Path | None, typer.Option(help="Write the receipt to this file")] = None,
) -> None:
    """A receipt (leaf, inclusion proof, signed checkpoint) a credential can carry."""
    from microcred.ledger import service

    with unit_of_work() as session:
        data = service.receipt_for(session, leaf_index).as_json()
    if output:
        output.write_text(json.dumps(data, indent=2))
        console.print(f"Receipt written to {output}")
    else:
        _print_json(data)


def _read_json(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise LedgerError(f"Cannot read {path}: {error}", field=field) from None


@ledger_app.command("verify-receipt")
@exits_cleanly
def verify_receipt_command(
    receipt_file: Annotated[Path, typer.Argument(help="Receipt JSON file")],
    log_key: Annotated[str, typer.Option(help="The log's verifier key (name+id+key)")],
    witness_key: Annotated[
        list[str] | None, typer.Option(help="A trusted witness key (repeat for several)")
    ] = None,
    require_witnesses: Annotated[int, typer.Option(help="Cosignatures required")] = 0,
    credential_hash: Annotated[str | None, typer.Option(help="Expected credential SHA-256")] = None,
) -> None:
    """Check a receipt offline: checkpoint signature, witnesses, inclusion."""
    from microcred.ledger.receipts import verify_receipt

    expected = None
    if credential_hash:
        try:
            expected = bytes.fromhex(credential_hash)
        except ValueError:
            raise LedgerError("--credential-hash is not hex.", field="credential_hash") from None
    checks = verify_receipt(
        _read_json(receipt_file, "receipt"),
        log_key,
        witness_keys=witness_key or [],
        required_witnesses=require_witnesses,
        credential_hash=expected,
    )
    for check in checks:
        colour = {"pass": "green", "fail": "red", "warning": "yellow"}[check.status]
        console.print(
            f"[{colour}]{check.status}[/{colour}] {check.name}: {check.reason}", highlight=False
        )
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(EXIT_MISBEHAVIOUR)


@ledger_app.command("add-witness")
@exits_cleanly
def add_witness(
    verifier_key: Annotated[str, typer.Argument(help="The witness's key (name+id+key, type 0x04)")],
) -> None:
    """Register a witness whose cosignatures the log accepts and publishes."""
    from microcred.ledger import service

    with unit_of_work() as session:
        witness = service.register_witness(session, verifier_key)
        console.print(f"Witness '{witness.name}' registered.")


@ledger_app.command("anchor")
@exits_cleanly
def anchor(
    limit: Annotated[int, typer.Option(help="Anchor at most this many checkpoints")] = 1,
) -> None:
    """Write the latest unanchored checkpoint roots to the configured chain."""
    from microcred.ledger import service
    from microcred.ledger.anchoring import EvmAnchorClient
    from microcred.ledger.config import get_ledger_settings

    client = EvmAnchorClient.from_settings(get_ledger_settings())
    with unit_of_work() as session:
        pending = service.unanchored_checkpoints(session, limit)
        if not pending:
            console.print("Every checkpoint is anchored.")
        for checkpoint in pending:
            row = service.anchor_checkpoint(session, checkpoint, client)
            console.print(
                f"Checkpoint of {checkpoint.tree_size} leaves anchored: {row.tx_hash} "
                f"(block {row.block_number})"
            )


@ledger_app.command("verify-anchors")
@exits_cleanly
def verify_anchors() -> None:
    """Confirm every recorded anchor on the chain."""
    from microcred.ledger import service
    from microcred.ledger.anchoring import EvmAnchorClient
    from microcred.ledger.config import get_ledger_settings
    from microcred.ledger.models import LedgerAnchor

    client = EvmAnchorClient.from_settings(get_ledger_settings())
    failed = False
    with unit_of_work() as session:
        for row in session.query(LedgerAnchor).order_by(LedgerAnchor.created_at):
            check = service.verify_anchor(session, row, client)
            failed = failed or check.status == "fail"
            console.print(f"{check.status}: {check.reason}", highlight=False)
    if failed:
        raise typer.Exit(EXIT_MISBEHAVIOUR)


def _misbehaviour(error: LedgerError) -> typer.Exit:
    err_console.print(f"[red]ALERT:[/red] {error.message}", highlight=False)
    return typer.Exit(EXIT_MISBEHAVIOUR)


@exits_cleanly
def audit(
    log: Annotated[str, typer.Option(help="Server URL (http://…) or database URL of the log")],
    log_key: Annotated[str, typer.Option(help="The log's verifier key (name+id+key)")],
    state: Annotated[Path, typer.Option(help="Where this monitor remembers checkpoints")] = Path(
        "ledger-audit.json"
    ),
    witness_key: Annotated[
        list[str] | None, typer.Option(help="A trusted witness key (repeat for several)")
    ] = None,
    require_witnesses: Annotated[int, typer.Option(help="Cosignatures required")] = 0,
    every: Annotated[int | None, typer.Option(help="Check again every SECONDS")] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many checks")] = None,
) -> None:
    """Monitor a log from outside: verify each checkpoint and its consistency with the last."""
    from microcred.ledger.monitor import MonitorState, check_new_checkpoint, open_source
    from microcred.ledger.notes import NoteVerifier

    verifier = NoteVerifier.parse(log_key)
    witnesses = [NoteVerifier.parse(key) for key in witness_key or []]
    source = open_source(log)
    checks = 0
    while True:
        memory = MonitorState.load(state, verifier)
        try:
            outcome = check_new_checkpoint(
                source,
                memory,
                verifier,
                witness_keys=witnesses,
                required_witnesses=require_witnesses,
            )
        except (AuditFailure, CheckpointError, ProofError) as error:
            memory.save(state)
            raise _misbehaviour(error) from None
        memory.save(state)
        console.print(outcome.message, highlight=False)
        checks += 1
        if every is None or (count is not None and checks >= count):
            return
        time.sleep(every)


@witness_app.command("keygen")
@exits_cleanly
def witness_keygen(
    name: Annotated[str, typer.Option(help="The witness's name, e.g. witness.example.org/w1")],
    key_file: Annotated[Path, typer.Option(help="Where to write the private key (mode 0600)")],
) -> None:
    """Create a witness key; prints the public key to register with the log."""
    from microcred.ledger.notes import COSIGNATURE_V1, NoteSigner

    if key_file.exists():
        raise LedgerError(f"{key_file} exists; refusing to overwrite a key.", field="key_file")
    signer = NoteSigner.generate(name, COSIGNATURE_V1)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(signer.encode() + "\n")
    console.print(signer.verifier.encode(), highlight=False)


@witness_app.command("cosign")
@exits_cleanly
def witness_cosign(
    log: Annotated[str, typer.Option(help="Server URL (http://…) or database URL of the log")],
    log_key: Annotated[str, typer.Option(help="The log's verifier key (name+id+key)")],
    key_file: Annotated[Path, typer.Option(help="The witness's private key file")],
    state: Annotated[Path, typer.Option(help="Where the witness remembers checkpoints")] = Path(
        "ledger-witness.json"
    ),
) -> None:
    """Verify the latest checkpoint is consistent with the last one cosigned, then cosign it."""
    from microcred.ledger.monitor import MonitorState, open_source, witness_checkpoint
    from microcred.ledger.notes import NoteSigner, NoteVerifier

    verifier = NoteVerifier.parse(log_key)
    try:
        signer = NoteSigner.parse(key_file.read_text().strip())
    except OSError as error:
        raise LedgerError(f"Cannot read {key_file}: {error}", field="key_file") from None
    memory = MonitorState.load(state, verifier)
    try:
        cosigned = witness_checkpoint(open_source(log), memory, verifier, signer)
    except (AuditFailure, CheckpointError, ProofError) as error:
        memory.save(state)
        raise _misbehaviour(error) from None
    memory.save(state)
    console.print(cosigned, highlight=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add the ledger group, ``audit`` and the ``witness`` group to the main app."""
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(witness_app, name="witness")
    app.command("audit")(audit)

"""Credential commands: ``issue`` (one, ``--bulk FILE`` or ``--resume JOB``), ``verify FILE…``,
and the ``credentials`` group (show, revoke, suspend, reinstate, rotate-key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from microcred.cli.common import (
    EXIT_USAGE,
    console,
    err_console,
    exits_cleanly,
    session_factory,
    unit_of_work,
)
from microcred.runtime import freeze_startup_heap
from microcred.settings import get_settings

if TYPE_CHECKING:
    from microcred.credentials.batch import BatchInput, BatchResult
    from microcred.credentials.models import BulkJob

credentials_app = typer.Typer(
    help="Issued credentials: show, revoke, suspend.", no_args_is_help=True
)

EXIT_INVALID = 1


@exits_cleanly
def issue(
    definition: Annotated[
        str | None, typer.Option("--definition", help="Definition id (single issuance)")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Recipient e-mail address")] = None,
    name: Annotated[str | None, typer.Option(help="Recipient name")] = None,
    did: Annotated[str | None, typer.Option(help="Recipient DID")] = None,
    level: Annotated[str | None, typer.Option(help="Result: a rubric level name")] = None,
    formats: Annotated[
        str | None, typer.Option(help="Comma-separated securing formats (default: issuer's)")
    ] = None,
    bulk_file: Annotated[
        Path | None, typer.Option("--bulk", help="A CSV file or JSON array to issue in bulk")
    ] = None,
    issuer: Annotated[str | None, typer.Option(help="Issuer slug (with --bulk)")] = None,
    resume: Annotated[str | None, typer.Option(help="Resume an interrupted bulk job")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Issue one credential, a file of them (--bulk FILE --issuer SLUG), or resume a job."""
    chosen = [item for item in formats.split(",") if item] if formats else None
    if resume or bulk_file:
        _bulk(bulk_file, issuer, resume, chosen, as_json)
        return
    if not definition:
        err_console.print("Give --definition (or --bulk FILE --issuer SLUG, or --resume JOB).")
        raise typer.Exit(EXIT_USAGE)
    from microcred.credentials.service import issue_credential

    with unit_of_work() as session:
        credential = issue_credential(
            session, None, definition_id=definition, recipient_email=email,
            recipient_name=name, recipient_did=did,
            results=[{"level": level}] if level else [], formats=chosen,
            settings=get_settings(),
        )  # fmt: skip
        url = f"{get_settings().base_url.rstrip('/')}/credentials/{credential.id}"
        if as_json:
            typer.echo(
                json.dumps({"id": credential.id, "url": url, "credential": credential.document})
            )
        else:
            console.print(f"Issued {credential.id}: {url}", highlight=False)


def _bulk(
    bulk_file: Path | None,
    issuer: str | None,
    resume: str | None,
    formats: list[str] | None,
    as_json: bool,
) -> None:
    from microcred.credentials import bulk

    settings = get_settings()
    if resume is None:
        if bulk_file is None or not issuer:
            err_console.print("--bulk FILE needs --issuer SLUG.")
            raise typer.Exit(EXIT_USAGE)
        if not bulk_file.is_file():
            err_console.print(f"No file {bulk_file}.")
            raise typer.Exit(EXIT_USAGE)
        with unit_of_work() as session:
            job = bulk.create_job(
                session, None, issuer, bulk_file.read_bytes(), source_name=bulk_file.name,
                formats=formats,
            )  # fmt: skip
            job_id = job.id
        if not as_json:
            console.print(f"Job {job_id}: {job.total_rows} rows (resume with --resume {job_id})")
    else:
        job_id = resume
    sessions = session_factory()
    freeze_startup_heap()  # a long batch run: full collections skip the start-up heap
    with Progress(
        TextColumn("[bold]issuing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err_console, disable=as_json,
    ) as progress:  # fmt: skip
        task = progress.add_task("issuing", total=None)

        def report(job: BulkJob) -> None:
            progress.update(task, total=job.total_rows, completed=job.processed_rows)

        job = bulk.run_job(sessions, job_id, settings, progress=report)
    summary = {
        "job": job.id, "state": job.state.value, "rows": job.total_rows,
        "issued": job.issued_count, "existing": job.existing_count, "errors": job.error_count,
    }  # fmt: skip
    if as_json:
        typer.echo(json.dumps(summary))
        return
    console.print(
        f"{job.issued_count} issued, {job.existing_count} already issued, {job.error_count} "
        f"errors. Result file: microcred credentials job-result {job.id}",
        highlight=False,
    )


@exits_cleanly
def verify_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Credentials: JSON, JWT, baked PNG/SVG, PDF; several files, a folder or a ZIP "
            "verify them all (a batch)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print a batch's rows as CSV")] = False,
    applicants: Annotated[
        Path | None,
        typer.Option(help="A batch's applicants: a CSV with item, email and name columns"),
    ] = None,
    references: Annotated[
        Path | None,
        typer.Option(help="A batch's links to credentials: a text file, one URL a line"),
    ] = None,
    time_budget: Annotated[
        float, typer.Option(help="Seconds a batch may spend; later items are not checked")
    ] = 120.0,
    offline: Annotated[
        bool, typer.Option(help="No network look-ups (other issuers' keys and lists)")
    ] = False,
    challenge: Annotated[
        str | None, typer.Option(help="A presentation's expected challenge")
    ] = None,
    domain: Annotated[str | None, typer.Option(help="A presentation's expected domain")] = None,
) -> None:
    """Verify a credential or a presentation. Exit 0 valid, 1 invalid, 2 unreadable.

    Several files, a folder, a ZIP or --references are a batch: one row each, exit 0 all valid,
    1 some invalid, 2 some unreadable (or not checked in the time budget)."""
    files = files or []
    if not files and references is None:
        err_console.print("Give a file (or several, a folder, a ZIP) or --references FILE.")
        raise typer.Exit(EXIT_USAGE)
    single = len(files) == 1 and files[0].is_file() and not _is_zip(files[0])
    if single and not as_csv and applicants is None and references is None:
        _verify_one(files[0], as_json, offline, challenge, domain)
        return
    inputs = _batch_input(files)
    if references is not None:
        inputs.add_references(_read_file(references).decode("utf-8", "replace"))
    _verify_many(inputs, as_json, as_csv, applicants, time_budget, offline)


def _is_zip(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as stream:
            return stream.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        err_console.print(f"Cannot read {path}: {error.strerror}")
        raise typer.Exit(EXIT_USAGE) from None


def _verify_one(
    file: Path, as_json: bool, offline: bool, challenge: str | None, domain: str | None
) -> None:
    from microcred.credentials.resolvers import verify

    data = _read_file(file)
    with unit_of_work() as session:
        report = verify(
            session, data, get_settings(), allow_remote=not offline, challenge=challenge,
            domain=domain,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for check in report.checks:
            console.print(f"{_STYLES[check.status]}  {check.name}: {check.reason}", highlight=False)
        console.print("[bold green]VALID[/]" if report.valid else "[bold red]NOT VALID[/]")
    if report.failed("parse"):
        raise typer.Exit(EXIT_USAGE)
    if not report.valid:
        raise typer.Exit(EXIT_INVALID)


_STYLES = {"pass": "[green]✔ pass[/green]", "fail": "[red]✘ fail[/red]",
           "warning": "[yellow]⚠ warning[/yellow]"}  # fmt: skip
_VERDICT_STYLES = {"valid": "green", "invalid": "red", "unreadable": "magenta",
                   "not checked": "yellow"}  # fmt: skip


def _batch_input(files: list[Path]) -> BatchInput:
    """Files, folders (every file under them but hidden ones, sorted) and ZIPs, in order."""
    from microcred.credentials.batch import BatchInput, BatchLimitExceeded

    inputs = BatchInput()
    for given in files:
        if given.is_dir():
            inside = sorted(path.relative_to(given) for path in given.rglob("*") if path.is_file())
            visible = [path for path in inside if not any(p.startswith(".") for p in path.parts)]
            named = [(given / path, f"{given.name}/{path.as_posix()}") for path in visible]
        else:
            named = [(given, str(given))]
        for path, name in named:
            size = path.stat().st_size if path.exists() else 0
            if inputs.size + size > inputs.max_bytes:
                raise BatchLimitExceeded(
                    f"A batch holds at most {inputs.max_bytes} bytes of credentials; '{name}' goes "
                    "past it. Split it into several batches."
                )
            inputs.add_file(name, _read_file(path))
    return inputs


def _verify_many(
    inputs: BatchInput,
    as_json: bool,
    as_csv: bool,
    applicants_file: Path | None,
    time_budget: float,
    offline: bool,
) -> None:
    from microcred.credentials import batch

    people = batch.read_applicants(_read_file(applicants_file)) if applicants_file else None
    with (
        Progress(
            TextColumn("Verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err_console, transient=True,
        ) as progress,
        unit_of_work() as session,
    ):  # fmt: skip
        task = progress.add_task("verify", total=len(inputs.items))
        result = batch.verify_batch(
            session, inputs.items, get_settings(), applicants=people, allow_remote=not offline,
            time_budget=time_budget, progress=lambda _row: progress.advance(task),
        )  # fmt: skip
    if as_json:
        rows = [batch.row_dict(row) for row in result.rows]
        typer.echo(json.dumps({"totals": result.totals, "rows": rows}, indent=2))
    elif as_csv:
        typer.echo(batch.result_csv(result), nl=False)
    else:
        _print_batch(result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _print_batch(result: BatchResult) -> None:
    from rich.table import Table

    table = Table("#", "Item", "Verdict", "Achievement", "Issuer", "Recipient", "Status",
                  "Problems", show_lines=False)  # fmt: skip
    for row in result.rows:
        style = _VERDICT_STYLES[row.verdict]
        applicant = (
            f"\nissued to {row.applicant_email}: {row.issued_to_applicant}"
            if row.applicant_email
            else ""
        )
        duplicate = f"\nduplicate of {row.duplicate_of}" if row.duplicate_of else ""
        table.add_row(
            str(row.index), row.name + duplicate, f"[{style}]{row.verdict}[/]",
            row.achievement or "", row.issuer_name or row.issuer_id or "",
            (row.recipient or "") + applicant, row.status,
            "\n".join(f"{c.status} · {c.name}: {c.reason}" for c in row.problems),
        )  # fmt: skip
    console.print(table)
    totals = result.totals
    console.print(
        f"{totals['total']} items: {totals['valid']} valid, {totals['invalid']} invalid, "
        f"{totals['unreadable']} unreadable, {totals['not checked']} not checked, "
        f"{totals['duplicates']} duplicates, {totals['not issued to applicant']} not issued to "
        "the applicant",
        highlight=False,
    )


@credentials_app.command("show")
@exits_cleanly
def show(
    credential_id: Annotated[str, typer.Argument(help="Credential id")],
    jwt: Annotated[str | None, typer.Option(help="Print this JWT form instead of JSON")] = None,
) -> None:
    """Print a credential as JSON (or one of its JWT forms)."""
    from microcred.credentials.service import credential_text, get_credential

    with unit_of_work() as session:
        typer.echo(credential_text(get_credential(session, credential_id), jwt))


def _change(credential_id: str, reason: str, action: str) -> None:
    from microcred.credentials import service

    settings = get_settings()
    with unit_of_work() as session:
        if action == "reinstate":
            credential = service.reinstate_credential(
                session, None, credential_id, reason=reason, settings=settings
            )
        else:
            purpose = "revocation" if action == "revoke" else "suspension"
            credential = service.revoke_credential(
                session, None, credential_id, reason=reason, purpose=purpose, settings=settings
            )
        console.print(f"{credential.id} is now {credential.state.value}.", highlight=False)


@credentials_app.command("revoke")
@exits_cleanly
def revoke(
    credential_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (kept, never published)")],
) -> None:
    """Revoke a credential for good."""
    _change(credential_id, reason, "revoke")


@credentials_app.command("suspend")
@exits_cleanly
def suspend(
    credential_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why (kept, never published)")],
) -> None:
    """Suspend a credential issued with a suspension status entry."""
    _change(credential_id, reason, "suspend")


@credentials_app.command("reinstate")
@exits_cleanly
def reinstate(
    credential_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why")],
) -> None:
    """Lift a suspension."""
    _change(credential_id, reason, "reinstate")


@credentials_app.command("revoke-job")
@exits_cleanly
def revoke_job(
    job_id: Annotated[str, typer.Argument(help="Bulk job id")],
    reason: Annotated[str, typer.Option(help="Why (kept, never published)")],
) -> None:
    """Revoke every credential a bulk job issued, all or nothing (a wrong file, a cohort issued
    in error)."""
    from microcred.credentials import bulk

    with (
        unit_of_work() as session,
        Progress(
            TextColumn("[bold]revoking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err_console,
        ) as progress,
    ):  # fmt: skip
        task = progress.add_task("revoking", total=None)
        done = bulk.revoke_job(
            session, None, job_id, reason=reason, settings=get_settings(),
            on_progress=lambda count, total: progress.update(task, completed=count, total=total),
        )  # fmt: skip
    console.print(
        f"Revoked {done.revoked} credential(s) of job {job_id}; "
        f"{done.already_revoked} were revoked already.",
        highlight=False,
        soft_wrap=True,
    )


@credentials_app.command("rotate-key")
@exits_cleanly
def rotate_key(
    issuer: Annotated[str, typer.Argument(help="Issuer slug")],
    algorithm: Annotated[str, typer.Option(help="Ed25519, RS256 or ES256")] = "Ed25519",
) -> None:
    """Start signing with a new key; the old one stays published for what it signed."""
    from microcred.credentials.keystore import rotate_issuer_key

    with unit_of_work() as session:
        row = rotate_issuer_key(session, None, issuer, algorithm=algorithm, settings=get_settings())
        console.print(f"{issuer} now signs {row.algorithm.value} with #{row.fragment}.")


@credentials_app.command("job-result")
@exits_cleanly
def job_result(job_id: Annotated[str, typer.Argument(help="Bulk job id")]) -> None:
    """Print a bulk job's result file (CSV: row, status, credential id or error)."""
    from microcred.credentials import bulk

    with unit_of_work() as session:
        job = bulk.get_job(session, None, job_id)
        typer.echo(bulk.result_csv(session, job, get_settings().base_url), nl=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add ``issue``, ``verify`` and the ``credentials`` group."""
    app.command("issue")(issue)
    app.command("verify")(verify_command)
    app.add_typer(credentials_app, name="credentials")

"""Credential commands: ``issue`` (one, ``--bulk FILE`` or ``--resume JOB``), ``verify FILE``,
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
    file: Annotated[Path, typer.Argument(help="A credential: JSON, JWT, or a baked PNG/SVG")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    offline: Annotated[
        bool, typer.Option(help="No network look-ups (other issuers' keys and lists)")
    ] = False,
    challenge: Annotated[
        str | None, typer.Option(help="A presentation's expected challenge")
    ] = None,
    domain: Annotated[str | None, typer.Option(help="A presentation's expected domain")] = None,
) -> None:
    """Verify a credential or a presentation. Exit 0 valid, 1 invalid, 2 unreadable."""
    from microcred.credentials.resolvers import verify

    try:
        data = file.read_bytes()
    except OSError as error:
        err_console.print(f"Cannot read {file}: {error.strerror}")
        raise typer.Exit(EXIT_USAGE) from None
    with unit_of_work() as session:
        report = verify(
            session, data, get_settings(), allow_remote=not offline, challenge=challenge,
            domain=domain,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        styles = {"pass": "[green]✔ pass[/green]", "fail": "[red]✘ fail[/red]",
                  "warning": "[yellow]⚠ warning[/yellow]"}  # fmt: skip
        for check in report.checks:
            console.print(f"{styles[check.status]}  {check.name}: {check.reason}", highlight=False)
        console.print("[bold green]VALID[/]" if report.valid else "[bold red]NOT VALID[/]")
    if report.failed("parse"):
        raise typer.Exit(EXIT_USAGE)
    if not report.valid:
        raise typer.Exit(EXIT_INVALID)


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

"""Mail commands: ``microcred mail send`` (for cron, or to flush the outbox now), ``list`` and
``test ADDRESS``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from microcred.cli.common import console, err_console, exits_cleanly, session_factory
from microcred.mail import service
from microcred.mail.models import MailState
from microcred.settings import Settings, get_settings

mail_app = typer.Typer(help="Outbound e-mail: the outbox and its sender.", no_args_is_help=True)

ROUND = 10
"""Messages per send_pending call, so that the progress bar moves."""


def _require_enabled() -> None:
    if not service.mail_enabled(get_settings()):
        raise service.MailError(
            "Mail is off: set MICROCRED_SMTP_URL (or MICROCRED_MAIL_DIR) to send e-mail."
        )


@mail_app.command("send")
@exits_cleanly
def send() -> None:
    """Send the messages due now (safe beside web workers and other runs: each message is
    claimed by one of them). The server does this every 15 s unless
    MICROCRED_MAIL_IN_SERVER=false."""
    _require_enabled()
    settings = get_settings()
    sessions = session_factory()
    with sessions() as session:
        due = service.due_count(session)
    sent = retried = failed = 0
    with Progress(
        TextColumn("[bold]sending"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console,
    ) as progress:  # fmt: skip
        task = progress.add_task("sending", total=due)
        while (summary := service.send_pending(sessions, settings, limit=ROUND)).attempted:
            sent, retried, failed = (
                sent + summary.sent,
                retried + summary.retried,
                failed + summary.failed,
            )
            progress.update(task, advance=summary.attempted)
    console.print(str(service.SendSummary(sent, retried, failed)), highlight=False)
    console.print(f"via {_transport(settings)}", highlight=False)


def _transport(settings: Settings) -> str:
    if settings.smtp_url:
        return service.masked_url(settings.smtp_url)
    return f"files in {settings.mail_dir}"


@mail_app.command("list")
@exits_cleanly
def list_messages(
    state: Annotated[MailState | None, typer.Option(help="Only messages in this state")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first")] = 50,
) -> None:
    """The outbox, newest first, one line each: when queued (UTC), state, attempts, kind,
    addressee, subject, and the last error."""
    with session_factory()() as session:
        messages = service.list_messages(session, state, limit)
    if not messages:
        console.print("No messages.")
        return
    for message in messages:
        error = f"  [{message.last_error}]" if message.last_error else ""
        console.print(
            f"{message.created_at:%Y-%m-%d %H:%M}  {message.state.value:<7}  {message.attempts}  "
            f"{message.kind}  {message.to_address}  {message.subject}{error}",
            highlight=False, markup=False, soft_wrap=True,
        )  # fmt: skip


@mail_app.command("test")
@exits_cleanly
def test(address: Annotated[str, typer.Argument(help="Where to send the test message")]) -> None:
    """Queue one test message to ADDRESS and send it at once; exit 1 with the server's answer
    when it is not accepted."""
    _require_enabled()
    settings = get_settings()
    sessions = session_factory()
    text, html = service.render_mail("test", base_url=settings.base_url)
    with sessions.begin() as session:
        message = service.queue_mail(
            session, settings, to=address, subject="microcred test message", text=text,
            html=html, kind="mail.test",
        )  # fmt: skip
        assert message is not None
        message_id = message.id
    outcome = service.send_now(sessions, settings, message_id)
    if not outcome.sent:
        err_console.print(f"[red]not sent:[/red] {outcome.error}", highlight=False)
        raise typer.Exit(1)
    console.print(f"Sent to {address} via {_transport(settings)}", highlight=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(mail_app, name="mail")

"""``dossier notifications …``: the notification run, the e-mail outbox and retries (通知与邮件).

The workers do all of this by themselves; these commands are for operators and tests: ``run``
adds what has come due (``--now`` pretends another moment), ``send`` sends the waiting mails now,
``mail`` lists pending and failed mails with their attempts and last error, ``retry`` tries failed
ones again (admins; the operator at the console acts as ``system`` unless ``--as`` names an admin).
"""

from __future__ import annotations

from datetime import datetime

import click

from dossier.cli._common import _echo_json, _open, _principal, shown
from foundation.errors import DossierError
from foundation.messages import msg

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def notifications() -> None:
    """In-app notifications and reminder e-mails: run, send, the outbox, retries (通知与邮件)."""


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(str(msg("cli.notify.bad_now", value=value))) from None


@notifications.command("run")
@click.option(
    "--now", "now", help="Pretend it is this moment (ISO, server local time, e.g. 2026-12-07T08:30)."
)
@click.option("--send/--no-send", default=True, show_default=True, help="Also send the mails that are due.")
@_JSON
@click.pass_context
def notifications_run(ctx: click.Context, now: str | None, send: bool, as_json: bool) -> None:
    """Add the notifications and mails that have come due (safe to repeat: each goes once)."""
    d = _open(ctx)
    moment = _when(now)
    result: dict = {"added": d.notifications.run(moment)}
    if send:
        result["mail"] = d.notifications.send_pending(now=moment)
    if as_json:
        _echo_json(result)
        return
    added = result["added"]
    click.echo(
        str(
            msg(
                "cli.notify.ran",
                notifications=added["notifications"],
                mails=added["mails"],
                digests=added["digests"],
            )
        )
    )
    if send:
        _echo_sent(result["mail"])


def _echo_sent(sent: dict) -> None:
    click.echo(
        str(msg("cli.notify.sent", sent=sent["sent"], retrying=sent["retrying"], failed=sent["failed"]))
    )
    for error in sent["errors"]:
        click.echo(f"  ✗ {shown(error)}", err=True)


@notifications.command("send")
@_JSON
@click.pass_context
def notifications_send(ctx: click.Context, as_json: bool) -> None:
    """Send the waiting mails whose time has come, now."""
    sent = _open(ctx).notifications.send_pending()
    if as_json:
        _echo_json(sent)
        return
    _echo_sent(sent)


@notifications.command("mail")
@click.option(
    "--status",
    type=click.Choice(["pending", "failed", "sent"]),
    help="Only this state (default: pending and failed).",
)
@click.option("--as", "as_user", help="Act as this user (admins).")
@_JSON
@click.pass_context
def notifications_mail(ctx: click.Context, status: str | None, as_user: str | None, as_json: bool) -> None:
    """The e-mail outbox: each mail's state, recipient, subject, attempts and last error."""
    d = _open(ctx)
    rows = d.notifications.mails(_principal(d, as_user), status)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(str(msg("cli.notify.outbox_empty")))
    for row in rows:
        when = f"  next {row['next_try_at']}" if row["next_try_at"] else ""
        click.echo(
            f"#{row['id']}  {row['status']:<8} {row['recipient']}  {row['subject']}"
            f"  ({msg('cli.notify.attempts', n=row['attempts'])}){when}"
        )
        if row["last_error"]:
            click.echo(f"    ✗ {shown(row['last_error'])}")


@notifications.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed mail.")
@click.option("--as", "as_user", help="Act as this user (admins).")
@_JSON
@click.pass_context
def notifications_retry(
    ctx: click.Context, ids: tuple[int, ...], all_failed: bool, as_user: str | None, as_json: bool
) -> None:
    """Try failed mails IDS (or --all-failed) again now; the workers send them at their next round."""
    if bool(ids) == all_failed:
        raise DossierError(msg("cli.notify.retry_what"))
    d = _open(ctx)
    found = d.notifications.retry(_principal(d, as_user), None if all_failed else list(ids))
    if as_json:
        _echo_json({"retried": found})
        return
    click.echo(str(msg("cli.notify.retried", n=len(found))))

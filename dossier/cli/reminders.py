"""``dossier reminders …``: reminders (提醒) and customer care (客户关怀).

The operator acts as ``system`` (an admin without an account: it sees every reminder, and a
reminder it adds has no owner unless ``--owner`` names one) unless ``--as USER`` names the account.
"""

from __future__ import annotations

from typing import Any

import click

from dossier.cli._common import _echo_json, _open, _principal, label
from foundation.messages import msg

_AS = click.option("--as", "as_user", help="Act as this user (what they may see and do).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def reminders() -> None:
    """Reminders (提醒): follow-ups, due soon, overdue; customers to contact (客户关怀)."""


def _line(item: dict[str, Any]) -> str:
    parts = [f"#{item['id']}", item["due_on"]]
    if item["overdue"]:
        parts.append(f"[{msg('cli.reminders.overdue', n=item['days_overdue'])}]")
    if item["status"] != "open":
        parts.append(f"[{item['status']}]")
    parts.append(item["title"])
    if item.get("customer"):
        parts.append(f"· {item['customer']['name']}")
    if item.get("document"):
        parts.append(f"· #{item['document']['id']} {item['document']['title']}")
    parts.append(f"({label('cli.reminders.owner')}: {item['owner'] or msg('cli.reminders.unassigned')})")
    return "  ".join(str(p) for p in parts)


def _show(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _echo_json(item)
    else:
        click.echo(_line(item))


@reminders.command("add")
@click.argument("title")
@click.option("--due", required=True, help="Due date (YYYY-MM-DD, or 2026年3月1日).")
@click.option("--customer", help="The customer (id or name).")
@click.option("--document", help="A document id.")
@click.option("--owner", help="Whose reminder it is (admins and managers; default: yourself).")
@click.option("--note", help="A note.")
@click.option("--confidentiality", help="Who else sees it (public, internal, confidential, finance).")
@_AS
@_JSON
@click.pass_context
def reminders_add(
    ctx: click.Context,
    title: str,
    due: str,
    customer: str | None,
    document: str | None,
    owner: str | None,
    note: str | None,
    confidentiality: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Add a follow-up reminder."""
    d = _open(ctx)
    item = d.reminders.add(
        _principal(d, as_user),
        title,
        due,
        customer=customer,
        document=document,
        owner=owner,
        note=note,
        confidentiality=confidentiality,
    )
    _show(item, as_json)


@reminders.command("list")
@click.option(
    "--due-within", type=click.IntRange(0, 3650), help="Only those due within DAYS (overdue ones too)."
)
@click.option("--team", is_flag=True, help="Everyone's you may see (managers: the team's), not only yours.")
@click.option("--owner", help="Only this user's (unassigned: nobody's).")
@click.option("--status", default="open", show_default=True, help="open, done, cancelled or all.")
@click.option("--customer", help="Only this customer's (id or name).")
@_AS
@_JSON
@click.pass_context
def reminders_list(
    ctx: click.Context,
    due_within: int | None,
    team: bool,
    owner: str | None,
    status: str,
    customer: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Your reminders, soonest first (overdue ones are marked)."""
    d = _open(ctx)
    items = d.reminders.list(
        _principal(d, as_user),
        due_within=due_within,
        team=team,
        owner=owner,
        status=status,
        customer=customer,
    )
    if as_json:
        _echo_json(items)
        return
    if not items:
        click.echo(str(msg("cli.reminders.none")))
    for item in items:
        click.echo(_line(item))


def _simple(name: str, help_text: str) -> None:
    @reminders.command(name, help=help_text)
    @click.argument("reminder_id", type=int)
    @_AS
    @_JSON
    @click.pass_context
    def command(ctx: click.Context, reminder_id: int, as_user: str | None, as_json: bool) -> None:
        d = _open(ctx)
        result = getattr(d.reminders, name)(reminder_id, _principal(d, as_user))
        if as_json or name == "delete":
            _echo_json(result)
        else:
            click.echo(_line(result))


_simple("done", "Mark a reminder done.")
_simple("reopen", "Open a done or cancelled reminder again.")
_simple("cancel", "Cancel a reminder.")
_simple("delete", "Delete a reminder for good.")


@reminders.command("snooze")
@click.argument("reminder_id", type=int)
@click.option("--days", type=int, help="Remind again in N days.")
@click.option("--until", help="Remind again on this date.")
@_AS
@_JSON
@click.pass_context
def reminders_snooze(
    ctx: click.Context,
    reminder_id: int,
    days: int | None,
    until: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Snooze a reminder (its due date stays)."""
    d = _open(ctx)
    _show(d.reminders.snooze(reminder_id, _principal(d, as_user), days=days, until=until), as_json)


@reminders.command("reassign")
@click.argument("reminder_id", type=int)
@click.argument("username")
@_AS
@_JSON
@click.pass_context
def reminders_reassign(
    ctx: click.Context, reminder_id: int, username: str, as_user: str | None, as_json: bool
) -> None:
    """Give a reminder to another active user (admins and managers)."""
    d = _open(ctx)
    _show(d.reminders.reassign(reminder_id, _principal(d, as_user), username), as_json)


@reminders.command("care")
@_AS
@_JSON
@click.pass_context
def reminders_care(ctx: click.Context, as_user: str | None, as_json: bool) -> None:
    """Customers to contact (客户关怀): silent for DOSSIER_STALE_DAYS."""
    d = _open(ctx)
    rows = d.reminders.stale_customers(_principal(d, as_user))
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(str(msg("cli.reminders.care_none")))
    for row in rows:
        owner = row["owner"] or msg("cli.reminders.unassigned")
        silent = msg("cli.reminders.silent", n=row["days_silent"], last=row["last_activity"])
        click.echo(f"#{row['customer']['id']}  {row['customer']['name']}  {silent}  ({owner})")


@reminders.command("run")
@click.option("--today", help="Run as on this date (YYYY-MM-DD; default today).")
@_JSON
@click.pass_context
def reminders_run(ctx: click.Context, today: str | None, as_json: bool) -> None:
    """The daily reminder run now: care reminders for silent customers, closed when they are active again."""
    result = _open(ctx).reminders.daily(today)
    if as_json:
        _echo_json(result)
    else:
        click.echo(str(msg("cli.reminders.run", **result)))

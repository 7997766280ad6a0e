"""``dossier audit``: read the audit trail from the command line (newest first), as a table, JSON lines or CSV.

The CLI acts as the operator (who may read the trail) unless ``--as USER`` names the account to
act as; then only an admin may read it, as on the web page.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from dossier.app.audit import (
    ACTION_LABELS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AuditFilter,
    AuditQueryError,
    parse_time,
)
from dossier.cli._common import _echo_json, _open, _principal, label
from foundation.messages import msg


def _target(value: str | None) -> tuple[str | None, int | None]:
    """``TYPE``, ``TYPE:ID`` or ``ID`` as (target type, target id)."""
    raw = (value or "").strip()
    if not raw:
        return None, None
    kind, sep, ident = raw.partition(":")
    if not sep:
        return (None, int(raw)) if raw.isdigit() else (raw, None)
    if not kind.strip() or not ident.strip().isdigit():
        raise AuditQueryError(msg("cli.audit.bad_target", value=raw[:40]))
    return kind.strip(), int(ident)


@click.command()
@click.option("--user", "users", multiple=True, help="Only events of this user (repeatable).")
@click.option(
    "--action", "actions", multiple=True, help=f"Only this action (repeatable): {', '.join(ACTION_LABELS)}."
)
@click.option("--since", help="From this UTC date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM).")
@click.option("--until", help="Up to this UTC date (the whole day) or time.")
@click.option("--target", help="TYPE, TYPE:ID or ID, e.g. document:12, batch:3, user.")
@click.option(
    "--query", "text", help="Text the event's detail contains (a search query, a file name, an address)."
)
@click.option("--limit", type=click.IntRange(1, MAX_PAGE_SIZE), default=DEFAULT_PAGE_SIZE, show_default=True)
@click.option(
    "--before", type=click.IntRange(1), help="Only events older than this id (the 'more' hint shows it)."
)
@click.option("--as", "as_user", help="Act as this user (only admins may read the trail).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event and line.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write every matching event (not only --limit) to this CSV file; '-' for standard output.",
)
@click.pass_context
def audit(
    ctx: click.Context,
    users: tuple[str, ...],
    actions: tuple[str, ...],
    since: str | None,
    until: str | None,
    target: str | None,
    text: str | None,
    limit: int,
    before: int | None,
    as_user: str | None,
    as_json: bool,
    csv_file: str | None,
) -> None:
    """Show the audit trail, newest first: who did what, when, on what."""
    target_type, target_id = _target(target)
    filters = AuditFilter(
        users=users,
        actions=actions,
        target_type=target_type,
        target_id=target_id,
        since=parse_time(since),
        until=parse_time(until, end=True),
        text=(text or "").strip(),
        before=before,
    )
    dossier = _open(ctx)
    principal = _principal(dossier, as_user)
    if csv_file:
        chunks = dossier.audit.csv(principal, filters)
        if csv_file == "-":
            out = sys.stdout.buffer
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            return
        with open(csv_file, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        click.echo(f"{msg('cli.written')}: {csv_file}", err=True)
        return
    page = dossier.audit.events(principal, filters, limit=limit)
    if as_json:
        for event in page["events"]:
            _echo_json(event)
        return
    _print_table(page)


def _print_table(page: dict[str, Any]) -> None:
    events = page["events"]
    for e in events:
        action_label = ACTION_LABELS.get(e["action"], (e["action"], ""))[0]
        target = ""
        if e["target_type"]:
            target = e["target_type"] + (f":{e['target_id']}" if e["target_id"] is not None else "")
            if e.get("target_exists") is False:
                target += f"（{label('cli.audit.deleted')}）"
        click.echo(
            f"{e['id']:>7}  {e['at'][:19].replace('T', ' ')}  {e['username']:<12} {e['action']:<18} {action_label:<8} "
            f"{target:<16} {e['summary']}"
        )
    shown = len(events)
    click.echo(str(msg("cli.audit.count", total=page["total"], shown=shown)), err=True)
    if page["next_before"] is not None:
        click.echo(f"  {msg('cli.audit.older')}: --before {page['next_before']}", err=True)

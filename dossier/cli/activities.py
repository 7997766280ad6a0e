"""``dossier activities …``: activities and comments (沟通记录、评论) from the command line.

``add`` logs a call, visit, meeting, e-mail or note against a customer (``--customer`` name or
id; ``--document`` too, optionally), ``comment`` remarks on a document, ``edit`` and ``delete``
change or remove one (its author, a manager or an admin), ``list`` shows what one may read,
newest first, and ``timeline`` a customer's timeline.  As in ``dossier documents``,
the CLI acts as the operator (all rights) unless ``--as USER`` names the account whose rights apply.
"""

from __future__ import annotations

from typing import Any

import click

from dossier.cli._common import _echo_json, _open, _principal

_AS = click.option("--as", "as_user", help="Act as this user (their rights apply).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
LEVELS = click.Choice(["public", "internal", "confidential", "finance"])


@click.group()
def activities() -> None:
    """Activities and comments (沟通记录、评论): calls, visits, meetings, e-mails, notes, remarks on documents."""


def _line(a: dict[str, Any]) -> str:
    customer = a["customer"]["name"] if a.get("customer") else "-"
    what = a["subject"] or (a["body"] or "")[:60].replace("\n", " ")
    with_ = f"  ({'、'.join(a['contacts'])})" if a.get("contacts") else ""
    doc = f"  [doc {a['document']['id']}]" if a.get("document") else ""
    return f"{a['id']}\t{a['occurred_at']}\t{a['kind']}\t{customer}\t{a['author']}\t{a['confidentiality']}\t{what}{with_}{doc}"


@activities.command("add")
@click.option("--customer", help="The customer: its name, an alias or its id.")
@click.option(
    "--kind",
    type=click.Choice(["call", "visit", "meeting", "email", "note", "comment"]),
    default="note",
    show_default=True,
)
@click.option(
    "--when", "occurred_at", help='When it happened: "2026-12-01 10:00" or 2026-12-01 (default: now).'
)
@click.option("--with", "contacts", multiple=True, help="A contact who took part; repeatable.")
@click.option("--subject", default="", help="Subject (at most 255 characters).")
@click.option("--body", default="", help="What was said (at most 20,000 characters).")
@click.option("--next-step", "next_step", help="The next step.")
@click.option("--document", type=int, help="The document it is about (needed for a comment).")
@click.option(
    "--level", type=LEVELS, help="Confidentiality (default: finance for finance staff, else internal)."
)
@_AS
@_JSON
@click.pass_context
def add(
    ctx: click.Context,
    customer: str | None,
    kind: str,
    occurred_at: str | None,
    contacts: tuple[str, ...],
    subject: str,
    body: str,
    next_step: str | None,
    document: int | None,
    level: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Log an activity against a customer (and optionally a document)."""
    dossier = _open(ctx)
    made = dossier.activities.add(
        _principal(dossier, as_user),
        kind=kind,
        customer=customer,
        document=document,
        occurred_at=occurred_at,
        contacts=list(contacts),
        subject=subject,
        body=body,
        next_step=next_step,
        confidentiality=level,
    )
    if as_json:
        _echo_json(made)
        return
    click.echo(_line(made))


@activities.command("comment")
@click.argument("doc_id", type=int)
@click.argument("text")
@click.option("--level", type=LEVELS, help="Confidentiality (at least the document's).")
@_AS
@_JSON
@click.pass_context
def comment(
    ctx: click.Context, doc_id: int, text: str, level: str | None, as_user: str | None, as_json: bool
) -> None:
    """Comment on document DOC_ID."""
    dossier = _open(ctx)
    made = dossier.activities.comment(_principal(dossier, as_user), doc_id, text, confidentiality=level)
    if as_json:
        _echo_json(made)
        return
    click.echo(_line(made))


@activities.command("edit")
@click.argument("activity_id", type=int)
@click.option("--kind", type=click.Choice(["call", "visit", "meeting", "email", "note"]))
@click.option("--when", "occurred_at", help="When it happened.")
@click.option("--with", "contacts", multiple=True, help="The contacts (replace the old ones); repeatable.")
@click.option("--subject", help="New subject.")
@click.option("--body", help="New text.")
@click.option("--next-step", "next_step", help="New next step.")
@click.option("--level", type=LEVELS, help="New confidentiality.")
@_AS
@_JSON
@click.pass_context
def edit(
    ctx: click.Context,
    activity_id: int,
    kind: str | None,
    occurred_at: str | None,
    contacts: tuple[str, ...],
    subject: str | None,
    body: str | None,
    next_step: str | None,
    level: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change an activity or comment (its author, a manager or an admin)."""
    dossier = _open(ctx)
    changes: dict[str, Any] = {
        "kind": kind,
        "occurred_at": occurred_at,
        "subject": subject,
        "body": body,
        "next_step": next_step,
        "confidentiality": level,
    }
    if contacts:
        changes["contacts"] = list(contacts)
    changed = dossier.activities.edit(
        _principal(dossier, as_user), activity_id, **{k: v for k, v in changes.items() if v is not None}
    )
    if as_json:
        _echo_json(changed)
        return
    click.echo(_line(changed))


@activities.command("delete")
@click.argument("activity_id", type=int)
@_AS
@_JSON
@click.pass_context
def delete(ctx: click.Context, activity_id: int, as_user: str | None, as_json: bool) -> None:
    """Delete an activity or comment (its author, a manager or an admin)."""
    dossier = _open(ctx)
    done = dossier.activities.delete(_principal(dossier, as_user), activity_id)
    if as_json:
        _echo_json(done)
        return
    click.echo(f"{activity_id}\tdeleted")


@activities.command("list")
@click.option("--customer", help="Only this customer's (name, alias or id).")
@click.option("--document", type=int, help="Only those on this document.")
@click.option("--kind", type=click.Choice(["call", "visit", "meeting", "email", "note", "comment"]))
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@_AS
@_JSON
@click.pass_context
def list_(
    ctx: click.Context,
    customer: str | None,
    document: int | None,
    kind: str | None,
    limit: int,
    page: int,
    as_user: str | None,
    as_json: bool,
) -> None:
    """The activities and comments one may read, newest first."""
    dossier = _open(ctx)
    found = dossier.activities.list(
        _principal(dossier, as_user),
        customer=customer,
        document=document,
        kind=kind,
        page=page,
        per_page=limit,
    )
    if as_json:
        _echo_json(found)
        return
    for a in found["items"]:
        click.echo(_line(a))
    click.echo(f"— {found['total']} (page {found['page']}/{found['pages']})")


@activities.command("timeline")
@click.argument("customer_id", type=int)
@click.option(
    "--kind", "kinds", multiple=True, help="document, activity, comment, change, reminder; repeatable."
)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@_AS
@_JSON
@click.pass_context
def timeline(
    ctx: click.Context,
    customer_id: int,
    kinds: tuple[str, ...],
    page: int,
    limit: int,
    as_user: str | None,
    as_json: bool,
) -> None:
    """A customer's timeline (客户时间线), newest first."""
    dossier = _open(ctx)
    found = dossier.timeline(_principal(dossier, as_user), customer_id, list(kinds) or None, page, limit)
    if as_json:
        _echo_json(found)
        return
    for item in found["items"]:
        title = item.get("title") or item.get("subject") or item.get("field") or ""
        click.echo(f"{item['at']}\t{item['kind']}\t{item['id']}\t{title}")
    click.echo(f"— {found['total']} (page {found['page']}/{found['pages']})")

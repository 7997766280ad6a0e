"""``dossier retention …``: retention rules, legal holds and the destruction queue (保留与销毁).

The operator acts as ``system`` (an admin) unless ``--as USER`` names the account; approving a
destruction always names one (``--as``): the two-person rule compares people, and ``system`` is
nobody in particular.
"""

from __future__ import annotations

from typing import Any

import click

from dossier.cli._common import _echo_json, _open, _principal, shown
from foundation.errors import DossierError
from foundation.messages import msg

_AS = click.option("--as", "as_user", help="Act as this user (managers and admins).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def retention() -> None:
    """Retention rules, legal holds and the destruction queue (保留与销毁)."""


def _line(row: dict[str, Any]) -> str:
    held = f"  [{msg('cli.retention.held')}]" if row.get("held") else ""
    rule = f"  {msg('cli.retention.rule')}: {row['rule']}" if row.get("rule") else ""
    decided = f"  → {row['decided_by']}" if row.get("decided_by") else ""
    return (
        f"#{row['id']}  {row['status']:<10}  {msg('cli.retention.document')} {row['document_id']}"
        f"  {row['title']}  ({row['proposed_by']}{decided}){rule}{held}"
    )


@retention.command("list")
@click.option(
    "--status", help="Only this state (proposed, approved, destroying, destroyed, rejected, cancelled)."
)
@_JSON
@click.pass_context
def retention_list(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """The destruction queue: open entries first."""
    rows = _open(ctx).retention.queue(status=status)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(str(msg("cli.retention.queue_empty")))
    for row in rows:
        click.echo(_line(row))


@retention.command("run")
@_JSON
@click.pass_context
def retention_run(ctx: click.Context, as_json: bool) -> None:
    """Run the rules now: archive what is due, propose what is due for destruction, finish approved ones."""
    result = _open(ctx).retention.run()
    if as_json:
        _echo_json(result)
        return
    click.echo(
        str(
            msg(
                "cli.retention.ran",
                archived=len(result["archived"]),
                proposed=len(result["proposed"]),
                destroyed=len(result["destroyed"]),
            )
        )
    )


@retention.command("propose")
@click.argument("doc_id", type=int)
@click.option("--reason", help="Why it should be destroyed.")
@_AS
@_JSON
@click.pass_context
def retention_propose(
    ctx: click.Context, doc_id: int, reason: str | None, as_user: str | None, as_json: bool
) -> None:
    """Propose DOC_ID (with its attachments) for destruction; another manager approves."""
    dossier = _open(ctx)
    row = dossier.retention.propose(doc_id, _principal(dossier, as_user), reason=reason)
    _echo_json(row) if as_json else click.echo(_line(row))


@retention.command("approve")
@click.argument("destruction_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_AS
@_JSON
@click.pass_context
def retention_approve(
    ctx: click.Context, destruction_id: int, yes: bool, as_user: str | None, as_json: bool
) -> None:
    """Approve DESTRUCTION_ID as a manager other than its proposer; the document is destroyed at once."""
    if not as_user:
        raise DossierError(msg("cli.retention.approve_needs_user"))
    dossier = _open(ctx)
    principal = _principal(dossier, as_user)
    if not yes:
        title = next((r["title"] for r in dossier.retention.queue() if r["id"] == destruction_id), "?")
        click.confirm(str(msg("cli.retention.confirm_approve", id=destruction_id, title=title)), abort=True)
    row = dossier.retention.approve(destruction_id, principal, now=True)
    _echo_json(row) if as_json else click.echo(_line(row))


@retention.command("reject")
@click.argument("destruction_id", type=int)
@click.option("--reason", help="Why it must stay.")
@_AS
@_JSON
@click.pass_context
def retention_reject(
    ctx: click.Context, destruction_id: int, reason: str | None, as_user: str | None, as_json: bool
) -> None:
    """Reject DESTRUCTION_ID (its proposer withdrawing it cancels it)."""
    dossier = _open(ctx)
    row = dossier.retention.reject(destruction_id, _principal(dossier, as_user), reason=reason)
    _echo_json(row) if as_json else click.echo(_line(row))


def _hold(
    ctx: click.Context,
    document: int | None,
    customer: str | None,
    reason: str | None,
    as_user: str | None,
    hold: bool,
) -> None:
    if (document is None) == (customer is None):
        raise DossierError(msg("cli.retention.hold_target"))
    dossier = _open(ctx)
    result = dossier.retention.set_hold(
        _principal(dossier, as_user), document_id=document, customer=customer, reason=reason, hold=hold
    )
    key = "cli.retention.held_now" if hold else "cli.retention.released_now"
    click.echo(str(msg(key, type=result["type"], id=result["id"], name=result["name"])))


@retention.command("hold")
@click.option("--document", type=int, help="The document's id.")
@click.option("--customer", help="The customer's full name or id.")
@click.option("--reason", help="Why (a case, an audit …).")
@_AS
@click.pass_context
def retention_hold(
    ctx: click.Context, document: int | None, customer: str | None, reason: str | None, as_user: str | None
) -> None:
    """Put a document or a customer under a legal hold (法律保留): no rule and no destruction touches it."""
    _hold(ctx, document, customer, reason, as_user, True)


@retention.command("release")
@click.option("--document", type=int, help="The document's id.")
@click.option("--customer", help="The customer's full name or id.")
@_AS
@click.pass_context
def retention_release(
    ctx: click.Context, document: int | None, customer: str | None, as_user: str | None
) -> None:
    """Release a legal hold."""
    _hold(ctx, document, customer, None, as_user, False)


@retention.command("holds")
@_JSON
@click.pass_context
def retention_holds(ctx: click.Context, as_json: bool) -> None:
    """Every document and customer under a legal hold."""
    rows = _open(ctx).retention.holds()
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['type']} {row['id']}  {row['name']}  {shown(row['reason'])}")


@retention.group("rules")
def rules() -> None:
    """Retention rules: list, add, remove."""


@rules.command("list")
@_JSON
@click.pass_context
def rules_list(ctx: click.Context, as_json: bool) -> None:
    """Every retention rule."""
    rows = _open(ctx).retention.rules()
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"#{r['id']}  {r['name']}  type={r['doc_type'] or '*'}  customer_type={r['customer_type'] or '*'}"
            f"  basis={r['basis']}  archive={r['archive_after'] or '-'}  destroy={r['destroy_after'] or '-'}"
        )


@rules.command("add")
@click.option("--name", required=True, help="A name people recognise (发票保留30年).")
@click.option("--type", "doc_type", help="Only documents of this type (invoice, quote, contract …).")
@click.option("--customer-type", help="Only documents of customers of this type (流失客户/lost …).")
@click.option("--basis", type=click.Choice(("doc_date", "created_at")), default="doc_date", show_default=True)
@click.option("--archive-after", help="Archive after this long (30y, 6m, 90d).")
@click.option("--destroy-after", help="Propose for destruction after this long (30y, 6m, 90d).")
@_AS
@_JSON
@click.pass_context
def rules_add(
    ctx: click.Context,
    name: str,
    doc_type: str | None,
    customer_type: str | None,
    basis: str,
    archive_after: str | None,
    destroy_after: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Add a retention rule."""
    dossier = _open(ctx)
    rule = dossier.retention.add_rule(
        _principal(dossier, as_user),
        name=name,
        doc_type=doc_type,
        customer_type=customer_type,
        basis=basis,
        archive_after=archive_after,
        destroy_after=destroy_after,
    )
    _echo_json(rule) if as_json else click.echo(f"#{rule['id']}  {rule['name']}")


@rules.command("remove")
@click.argument("rule_id", type=int)
@_AS
@click.pass_context
def rules_remove(ctx: click.Context, rule_id: int, as_user: str | None) -> None:
    """Remove a retention rule (its open proposals stay for people to decide)."""
    dossier = _open(ctx)
    rule = dossier.retention.remove_rule(rule_id, _principal(dossier, as_user))
    click.echo(f"- #{rule['id']}  {rule['name']}")

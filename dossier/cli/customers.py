"""``dossier customers …`` and ``dossier reextract``: the customer registry from the command line."""

from __future__ import annotations

import sys
from typing import Any

import click

from dossier.app.customer_fields import TAG_SEPARATORS
from dossier.app.customer_list import MAX_LIMIT, SORTS, customer_list
from dossier.cli._common import _echo_json, _open, _principal, label, shown
from foundation.messages import msg


@click.group()
def customers() -> None:
    """The customer registry (客户登记册): import, export, list, review suggestions."""


@customers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def customers_import(ctx: click.Context, path: str, as_json: bool) -> None:
    """Import customers from JSON, CSV or XLSX (an upsert: nothing is duplicated).

    Columns (Chinese or English headers): 客户编号/id, 客户名称/full_name, 简称/short_name,
    统一社会信用代码/uscc, 客户类型/customer_type, 销售阶段/stage, 行业/industry, 省份/province,
    城市/city, 地址/address, 重要程度/importance, 负责人/sales_owner, 联系人/contacts, 状态/status.
    """
    report = _open(ctx.find_root()).customers.import_registry(path)
    if as_json:
        _echo_json(report)
    else:
        click.echo(
            str(
                msg(
                    "cli.customers.imported",
                    created=report["created"],
                    updated=report["updated"],
                    unchanged=report["unchanged"],
                    errors=len(report["errors"]),
                    reanalysed=report["reanalysed"],
                )
            )
        )
        for warning in report["warnings"]:
            click.echo(f"  ! {msg('cli.row', n=warning['row'])}: {shown(warning['warning'])}")
        for error in report["errors"]:
            click.echo(f"  ✗ {msg('cli.row', n=error['row'])}: {shown(error['error'])}")
        _echo_merged(report["suggestions_merged"])
        if report["owners_linked"]:
            click.echo(str(msg("cli.customers.owners_linked", n=report["owners_linked"])))
        _echo_unmatched(report["unmatched_owners"])
    if report["errors"]:
        ctx.exit(1)


def _echo_merged(merged: list[dict[str, Any]]) -> None:
    if not merged:
        return
    ours = sum(1 for m in merged if m["self"])
    click.echo(str(msg("cli.customers.merged", n=len(merged), ours=ours)))
    for item in merged:
        click.echo(
            f"  ↪ [{item['id']}] {item['name']} → [{item['into_id']}] {item['into']}"
            f"（{msg('cli.customers.documents', n=item['documents'])}）"
        )


def _echo_unmatched(unmatched: list[dict[str, Any]]) -> None:
    """A warning line per registry owner name that matches no account (or several)."""
    from dossier.app.owners import owner_warning

    for item in unmatched:
        click.echo(f"! {owner_warning(item)}", err=True)


@customers.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def customers_export(ctx: click.Context, path: str) -> None:
    """Export the registry to PATH (.csv, .xlsx or .json); it imports back unchanged."""
    count = _open(ctx.find_root()).customers.export_registry(path)
    click.echo(str(msg("cli.customers.exported", n=count, path=path)))


@customers.command("list")
@click.option("--type", "customer_type", help="潜在客户 / 现有客户 / 流失客户 (or 潜在/现有/流失).")
@click.option("--industry", help="Industry (行业).")
@click.option("--region", help="Province (省份).")
@click.option("--owner", help="Sales rep (负责人).")
@click.option("--stage", help="Sales stage (销售阶段), exactly.")
@click.option("--importance", help="Importance (重要程度): A, B or C.")
@click.option("--tag", help="A customer tag (客户标签).")
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="name",
    show_default=True,
    help="name, or latest activity / most open reminders / largest contract amount first.",
)
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=MAX_LIMIT, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.option("--as", "as_user", help="List as this user: only the figures they may read.")
@click.option("--suggested", is_flag=True, help="List suggested customers waiting for review instead.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def customers_list(
    ctx: click.Context,
    customer_type: str | None,
    industry: str | None,
    region: str | None,
    owner: str | None,
    stage: str | None,
    importance: str | None,
    tag: str | None,
    sort: str,
    limit: int,
    offset: int,
    as_user: str | None,
    suggested: bool,
    as_json: bool,
) -> None:
    """List customers with their stage, importance, tags, documents, last activity, open reminders and contract amount."""
    from dossier.app import folder, registry
    from dossier.app.owners import unmatched_owners

    if customer_type:
        customer_type = registry.customer_type_of(customer_type)
    dossier = _open(ctx.find_root())
    principal = _principal(dossier, as_user)
    total = None
    with dossier.sessions() as session:
        if suggested:
            rows = folder.list_customers(
                session,
                principal,
                customer_type=customer_type,
                industry=industry,
                region=region,
                owner=owner,
                status="suggested",
            )
        else:
            page = customer_list(
                session,
                principal,
                customer_type=customer_type,
                industry=industry,
                region=region,
                owner=owner,
                stage=stage,
                importance=importance,
                tag=tag,
                sort=sort,
                offset=offset,
                limit=limit,
            )
            rows, total = page["customers"], page["total"]
        unmatched = unmatched_owners(session)
    problems = {u["owner"]: u["reason"] for u in unmatched}
    for (
        row
    ) in rows:  # `owner_warning`: why the row's owner name is linked to no account (None: linked or none)
        row["owner_warning"] = (
            problems.get(row.get("owner_name") or "") if not row.get("owner_account") else None
        )
    if as_json:  # each row says it (`owner_warning`); the lines below are for people
        _echo_json(rows)
        return
    for row in rows:
        bits = [
            row.get("customer_type"),
            row.get("stage"),
            row.get("importance"),
            "、".join(row.get("tags") or []),
            row.get("industry"),
            row.get("region"),
            row.get("owner"),
        ]
        detail = " · ".join(str(b) for b in bits if b)
        flag = " ⚠" if row["owner_warning"] else ""
        figures = [str(msg("cli.customers.documents", n=row.get("documents", 0)))]
        if not suggested:
            figures.append(
                str(
                    msg(
                        "cli.customers.figures",
                        last=(row["last_activity"] or "—")[:10],
                        reminders=row["open_reminders"],
                        amount=row["contract_amount"] or "—",
                    )
                )
            )
        click.echo(f"[{row['id']}] {row['name']}  {detail}{flag}  ({'; '.join(figures)})")
    if total is not None and offset + len(rows) < total:
        click.echo(
            str(msg("cli.customers.more", shown=len(rows), total=total, next=offset + len(rows))), err=True
        )
    _echo_unmatched(unmatched)


@customers.command("edit")
@click.argument("customer_id", type=int)
@click.option("--stage", help="Sales stage (销售阶段); an empty value clears it.")
@click.option("--importance", help="Importance (重要程度): A, B or C; an empty value clears it.")
@click.option("--type", "customer_type", help="Customer type: 潜在客户 / 现有客户 / 流失客户 (managers).")
@click.option("--owner", "owner_name", help="Sales rep (负责人) (managers).")
@click.option("--tag", "tag_list", multiple=True, help="A customer tag (客户标签); repeat for several.")
@click.option("--tags", help="Customer tags as one text: a,b,c (an empty value clears them).")
@click.option("--notes", help="Notes (备注); an empty value clears them.")
@click.option(
    "--contact",
    "contact_list",
    multiple=True,
    help="A contact as name[,title[,mobile[,landline[,email]]]]; repeat for several; replaces the contacts.",
)
@click.option("--no-contacts", is_flag=True, help="Remove every contact.")
@click.option(
    "--as",
    "as_user",
    help="Edit as this user: a sales rep changes contacts, stage, tags and notes of their own customers.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def customers_edit(
    ctx: click.Context,
    customer_id: int,
    stage: str | None,
    importance: str | None,
    customer_type: str | None,
    owner_name: str | None,
    tag_list: tuple[str, ...],
    tags: str | None,
    notes: str | None,
    contact_list: tuple[str, ...],
    no_contacts: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change a customer's stage, importance, tags, notes, contacts (and, for managers, type and owner)."""
    fields: dict[str, Any] = {
        name: value
        for name, value in (
            ("stage", stage),
            ("importance", importance),
            ("customer_type", customer_type),
            ("owner_name", owner_name),
            ("notes", notes),
        )
        if value is not None
    }
    if tag_list or tags is not None:
        fields["tags"] = [*tag_list, *([tags] if tags else [])]
        if tags:
            fields["tags"] = [*tag_list, *TAG_SEPARATORS.split(tags)]
    if contact_list or no_contacts:
        fields["contacts"] = [_contact(raw) for raw in contact_list]
    if not fields:
        raise click.UsageError(str(msg("cli.customers.edit_nothing")))
    dossier = _open(ctx.find_root())
    result = dossier.customers.update(customer_id, fields, _principal(dossier, as_user))
    result["warnings"] = [str(w) for w in result["warnings"]]
    if as_json:
        _echo_json(result)
        return
    click.echo(
        str(
            msg(
                "cli.customers.edited",
                id=result["id"],
                name=result["name"],
                fields=", ".join(result["changed"]) or "—",
                n=result["reanalysed"],
            )
        )
    )
    for warning in result["warnings"]:
        click.echo(warning, err=True)


def _contact(raw: str) -> dict[str, str]:
    parts = [p.strip() for p in raw.split(",")]
    keys = ("name", "title", "mobile", "landline", "email")
    return {k: (parts[i] if i < len(parts) else "") for i, k in enumerate(keys)}


def _review(ctx: click.Context, action: str, customer_id: int, into: int | None = None) -> None:
    from index import Principal

    dossier = _open(ctx.find_root())
    principal = Principal.system()
    result: dict[str, Any]
    if action == "merge":
        assert into is not None
        result = dossier.customers.merge(customer_id, into, principal)
    elif action == "confirm":
        result = dossier.customers.confirm(customer_id, principal)
    else:
        result = dossier.customers.reject(customer_id, principal)
    if "into" in result:
        done = msg("cli.customers.merged_into", id=result["into"]["id"], name=result["into"]["name"])
    else:
        done = msg("cli.customers.confirmed") if action == "confirm" else msg("cli.customers.rejected")
    click.echo(
        f"[{result['id']}] {result['name']}: {done}（{msg('cli.customers.reanalysed', n=result['reanalysed'])}）"
    )


@customers.command("confirm")
@click.argument("customer_id", type=int)
@click.pass_context
def customers_confirm(ctx: click.Context, customer_id: int) -> None:
    """Confirm a suggested customer."""
    _review(ctx, "confirm", customer_id)


@customers.command("reject")
@click.argument("customer_id", type=int)
@click.pass_context
def customers_reject(ctx: click.Context, customer_id: int) -> None:
    """Reject a suggestion: unlinked, never suggested again."""
    _review(ctx, "reject", customer_id)


@customers.command("merge")
@click.argument("customer_id", type=int)
@click.option("--into", type=int, required=True, help="The confirmed customer that absorbs it.")
@click.pass_context
def customers_merge(ctx: click.Context, customer_id: int, into: int) -> None:
    """Merge a suggested customer into a confirmed one (its name becomes an alias)."""
    _review(ctx, "merge", customer_id, into)


@click.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def reextract(ctx: click.Context, ids: tuple[int, ...], as_json: bool) -> None:
    """Extract entities, dates, types and customer links again from stored text (no re-OCR).

    Without IDS every document with text is done.
    """
    dossier = _open(ctx)
    show = not as_json and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            click.echo(f"\r{label('cli.customers.reextract_progress')} {done}/{total}", nl=False, err=True)

    counts = dossier.customers.reextract(ids or None, progress=progress)
    if show:
        click.echo("", err=True)
    if as_json:
        _echo_json(counts)
    else:
        click.echo(
            str(
                msg(
                    "cli.customers.reextracted",
                    documents=counts["documents"],
                    types=counts["types_changed"],
                    links=counts["links_changed"],
                )
            )
        )

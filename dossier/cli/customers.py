"""``dossier customers …`` and ``dossier reextract``: the customer registry from the command line."""

from __future__ import annotations

import sys
from typing import Any

import click

from dossier.cli._common import _echo_json, _open, label, shown
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
@click.option("--suggested", is_flag=True, help="List suggested customers waiting for review instead.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def customers_list(
    ctx: click.Context,
    customer_type: str | None,
    industry: str | None,
    region: str | None,
    owner: str | None,
    suggested: bool,
    as_json: bool,
) -> None:
    """List customers with their document counts."""
    from dossier.app import folder, registry
    from index import Principal

    if customer_type:
        customer_type = registry.customer_type_of(customer_type)
    from dossier.app.owners import unmatched_owners

    dossier = _open(ctx.find_root())
    with dossier.sessions() as session:
        rows = folder.list_customers(
            session,
            Principal.system(),
            customer_type=customer_type,
            industry=industry,
            region=region,
            owner=owner,
            status="suggested" if suggested else "confirmed",
        )
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
        bits = [row.get("customer_type"), row.get("industry"), row.get("region"), row.get("owner")]
        detail = " · ".join(str(b) for b in bits if b)
        flag = " ⚠" if row["owner_warning"] else ""
        click.echo(
            f"[{row['id']}] {row['name']}  {detail}{flag}  ({msg('cli.customers.documents', n=row.get('documents', 0))})"
        )
    _echo_unmatched(unmatched)


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

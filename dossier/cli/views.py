"""``dossier views list|save|delete|share``: saved views (保存的视图), a user's named searches.

Views belong to users, so each command names one with ``--as USER``.  ``save NAME`` takes the
search as the search page's query string (``--params 'q=合同&type=contract&sort=date_desc'``),
checked as the search page checks it.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

import click

from dossier.cli._common import _echo_json, _open, _principal
from foundation.messages import msg

_AS = click.option("--as", "as_user", required=True, help="The user whose views these are.")


@click.group()
def views() -> None:
    """Saved views (保存的视图): named searches, optionally shared with the team."""


@views.command("list")
@_AS
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def views_list(ctx: click.Context, as_user: str, as_json: bool) -> None:
    """The user's views and the team's shared ones: id, name, owner, shared, search."""
    dossier = _open(ctx)
    items = dossier.views.list(_principal(dossier, as_user))
    if as_json:
        _echo_json({"views": items})
        return
    if not items:
        click.echo(str(msg("cli.views.none")))
    for v in items:
        shared = msg("cli.views.shared") if v["shared"] else msg("cli.views.unshared")
        click.echo(f"{v['id']}\t{v['name']}\t{v['owner']}\t{shared}\t{unquote_plus(v['params'])}")


@views.command("save")
@click.argument("name")
@click.option("--params", default="", help="The search as a query string: q=…&type=…&sort=…")
@click.option("--shared", is_flag=True, help="Share it with the team.")
@_AS
@click.pass_context
def views_save(ctx: click.Context, name: str, params: str, shared: bool, as_user: str) -> None:
    """Save the search PARAMS under NAME."""
    dossier = _open(ctx)
    view = dossier.views.save(_principal(dossier, as_user), name, params, shared=shared)
    click.echo(f"{msg('cli.views.saved')}: {view['id']}\t{view['name']}")


@views.command("delete")
@click.argument("view_id", type=int)
@_AS
@click.pass_context
def views_delete(ctx: click.Context, view_id: int, as_user: str) -> None:
    """Delete view VIEW_ID (its owner or an admin)."""
    dossier = _open(ctx)
    dossier.views.delete(view_id, _principal(dossier, as_user))
    click.echo(f"{msg('cli.views.deleted')}: {view_id}")


@views.command("share")
@click.argument("view_id", type=int)
@click.option("--off", is_flag=True, help="Stop sharing it.")
@_AS
@click.pass_context
def views_share(ctx: click.Context, view_id: int, off: bool, as_user: str) -> None:
    """Share view VIEW_ID with the team (``--off``: stop sharing it)."""
    dossier = _open(ctx)
    view = dossier.views.update(view_id, _principal(dossier, as_user), shared=not off)
    state = msg("cli.views.shared") if view["shared"] else msg("cli.views.unshared")
    click.echo(f"{view['id']}\t{view['name']}\t{state}")

"""``dossier trash …`` and ``dossier archive …`` / ``unarchive``: the trash (回收站) and the archive (归档).

As in ``dossier documents``, the CLI acts as the operator (all rights) unless ``--as USER``
names the account whose rights apply (restoring, purging and archiving take a manager or admin).
"""

from __future__ import annotations

import click

from dossier.app.search_request import search_request
from dossier.cli._common import _echo_json, _open, _principal
from foundation.messages import msg

_AS = click.option("--as", "as_user", help="Act as this user (their rights apply).")


@click.group()
def trash() -> None:
    """The trash (回收站): deleted documents wait here DOSSIER_TRASH_DAYS before they are purged."""


@trash.command("list")
@_AS
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def trash_list(ctx: click.Context, as_user: str | None, as_json: bool) -> None:
    """What waits in the trash: id, title, who moved it there, when, and when it will be purged."""
    dossier = _open(ctx)
    entries = dossier.trash.entries(_principal(dossier, as_user))
    if as_json:
        _echo_json({"days": dossier.trash.days, "documents": entries})
        return
    if not entries:
        click.echo(str(msg("cli.trash.empty")))
    for e in entries:
        parts = f" (+{len(e['parts'])})" if e["parts"] else ""
        click.echo(
            f"{e['id']}\t{e['title'] or e['filename']}{parts}\t{e['doc_type']}\t{e['trashed_by']}\t"
            f"{e['trashed_at']}\t→ {e['purge_at']}"
        )


@trash.command("restore")
@click.argument("doc_ids", type=int, nargs=-1, required=True)
@_AS
@click.pass_context
def trash_restore(ctx: click.Context, doc_ids: tuple[int, ...], as_user: str | None) -> None:
    """Take DOC_IDS (with what was trashed with them) out of the trash; they are searchable again."""
    dossier = _open(ctx)
    principal = _principal(dossier, as_user)
    for doc_id in doc_ids:
        result = dossier.trash.restore(doc_id, principal)
        click.echo(f"{msg('cli.trash.restored')}: {', '.join(map(str, result['restored']))}")


@trash.command("purge")
@click.argument("doc_ids", type=int, nargs=-1)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_AS
@click.pass_context
def trash_purge(ctx: click.Context, doc_ids: tuple[int, ...], yes: bool, as_user: str | None) -> None:
    """Erase for good what waits in the trash (only DOC_IDS when given); it cannot be undone."""
    dossier = _open(ctx)
    principal = _principal(dossier, as_user)
    if not yes:
        count = len(doc_ids) or len(dossier.trash.entries(principal))
        click.confirm(str(msg("cli.trash.confirm_purge", n=count)), abort=True)
    result = dossier.trash.purge(principal, confirm=True, ids=list(doc_ids) or None)
    click.echo(f"{msg('cli.trash.purged')}: {', '.join(map(str, result['purged'])) or '-'}")
    if result["held"]:
        click.echo(f"{msg('cli.trash.held')}: {', '.join(map(str, result['held']))}")


def _archive_command(name: str, archived: bool) -> click.Command:
    @click.command(name)
    @click.argument("doc_ids", type=int, nargs=-1)
    @click.option(
        "--query", "query", help="Every hit of this search (what `dossier search` finds) instead of ids."
    )
    @_AS
    @click.pass_context
    def command(ctx: click.Context, doc_ids: tuple[int, ...], query: str | None, as_user: str | None) -> None:
        dossier = _open(ctx)
        principal = _principal(dossier, as_user)
        service = dossier.archive
        if query is not None:
            request = search_request({"q": [query]}, limit=1)
            result = (
                service.archive_search(request, principal)
                if archived
                else service.unarchive_search(request, principal)
            )
        elif doc_ids:
            result = (
                service.archive(doc_ids, principal) if archived else service.unarchive(doc_ids, principal)
            )
        else:
            raise click.UsageError(str(msg("cli.archive.nothing")))
        key = "archived" if archived else "unarchived"
        said = msg("cli.archive.archived") if archived else msg("cli.archive.unarchived")
        click.echo(f"{said}: {', '.join(map(str, result[key])) or '-'}")

    command.help = (
        "Archive (归档) DOC_IDS or a search's hits: read-only, hidden from default search (is:archived finds them)."
        if archived
        else "Unarchive DOC_IDS or a search's archived hits: editable and in default search again."
    )
    return command


archive = _archive_command("archive", True)
unarchive = _archive_command("unarchive", False)

"""``dossier documents …``: change, version and delete documents from the command line.

``versions`` lists a document's versions, ``restore-version`` makes an older one current again,
``download`` writes the original file of any version.

The CLI acts as the operator (all rights) unless ``--as USER`` names the account to act as,
in which case that user's rights apply exactly as on the web pages (:mod:`dossier.app.permissions`).
"""

from __future__ import annotations

from pathlib import Path

import click

from dossier.cli._common import _echo_json, _open, _principal
from foundation.messages import msg
from index import CONFIDENTIALITY_LEVELS

_AS = click.option("--as", "as_user", help="Act as this user (their rights apply).")


@click.group()
def documents() -> None:
    """Change a document's details or level, add a version, delete it."""


@documents.command("set")
@click.argument("doc_id", type=int)
@click.option("--title", help="A new title.")
@click.option(
    "--type", "doc_type", help="Document type (contract, quote, invoice … or 合同, 报价单, 发票 …)."
)
@click.option("--date", help="The document date (2024-03-15, 2024年3月15日 …; '' for none).")
@click.option(
    "--tag", "tags", multiple=True, help="The document's tags (repeatable; replaces the current ones)."
)
@click.option("--no-tags", is_flag=True, help="Remove every tag.")
@click.option(
    "--confidentiality", type=click.Choice(CONFIDENTIALITY_LEVELS), help="The level (managers and admins)."
)
@_AS
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
@click.pass_context
def documents_set(
    ctx: click.Context,
    doc_id: int,
    title: str | None,
    doc_type: str | None,
    date: str | None,
    tags: tuple[str, ...],
    no_tags: bool,
    confidentiality: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Change DOC_ID's details; only the options given change."""
    from dossier.app.search_request import doc_type_code

    dossier = _open(ctx)
    result = dossier.documents.update(
        doc_id,
        _principal(dossier, as_user),
        title=title,
        doc_type=doc_type_code(doc_type) if doc_type else None,
        date=date,
        tags=[] if no_tags else (list(tags) or None),
        confidentiality=confidentiality,
    )
    if as_json:
        _echo_json(result)
        return
    if not result["changed"]:
        click.echo(str(msg("cli.documents.unchanged")))
    for field, (before, after) in result["changed"].items():
        click.echo(f"{field}: {before} → {after}")


@documents.command("add-version")
@click.argument("doc_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_AS
@click.pass_context
def documents_add_version(ctx: click.Context, doc_id: int, path: Path, as_user: str | None) -> None:
    """Store PATH as the newest version of DOC_ID (processed by a worker, or by the next `dossier ingest`)."""
    dossier = _open(ctx)
    limit = dossier.limits.max_file_bytes
    if path.stat().st_size > limit:
        raise click.ClickException(str(msg("cli.documents.too_large", mb=limit // 2**20)))
    outcome = dossier.documents.add_version(
        doc_id, path.name, path.read_bytes(), _principal(dossier, as_user)
    )
    _echo_json(outcome)
    if outcome["status"] == "failed":
        ctx.exit(1)


@documents.command("versions")
@click.argument("doc_id", type=int)
@_AS
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
@click.pass_context
def documents_versions(ctx: click.Context, doc_id: int, as_user: str | None, as_json: bool) -> None:
    """List every version of DOC_ID, oldest first (* marks the current one)."""
    dossier = _open(ctx)
    found = dossier.reading.versions(doc_id, _principal(dossier, as_user))
    if as_json:
        _echo_json({"id": doc_id, "versions": found})
        return
    for v in found:
        restored = f"  ({msg('version.restored_from', n=v['restored_from'])})" if v["restored_from"] else ""
        kept = "" if v["text_kept"] else f"  [{msg('cli.documents.text_not_kept')}]"
        click.echo(
            f"{'*' if v['current'] else ' '} v{v['n']}  {v['filename']}  {v['size']}  {v['uploaded_by']}"
            f"  {v['uploaded_at']}{restored}{kept}"
        )


@documents.command("restore-version")
@click.argument("doc_id", type=int)
@click.argument("number", type=int)
@_AS
@click.pass_context
def documents_restore_version(ctx: click.Context, doc_id: int, number: int, as_user: str | None) -> None:
    """Make version NUMBER of DOC_ID the current one again (a new version with its file, processed by a worker)."""
    dossier = _open(ctx)
    _echo_json(dossier.documents.restore_version(doc_id, number, _principal(dossier, as_user)))


@documents.command("download")
@click.argument("doc_id", type=int)
@click.option("--version", "number", type=int, help="This version's file (default: the current one).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write it here (default: its file name, in the current folder).",
)
@_AS
@click.pass_context
def documents_download(
    ctx: click.Context, doc_id: int, number: int | None, output: Path | None, as_user: str | None
) -> None:
    """Write the original file of DOC_ID (or of its version NUMBER); audited as a download."""
    dossier = _open(ctx)
    principal = _principal(dossier, as_user)
    if number is None:
        filename, _mime, data = dossier.open_original(doc_id, principal)
    else:
        filename, _mime, data = dossier.reading.open_version(doc_id, number, principal)
    target = output or Path(Path(filename).name or f"document-{doc_id}")
    target.write_bytes(data)
    dossier.audit.record(
        principal.username,
        "download",
        target_type="document",
        target_id=doc_id,
        detail={
            "filename": filename,
            "size": len(data),
            "channel": "cli",
            **({"version": number} if number else {}),
        },
    )
    click.echo(str(target))


@documents.command("delete")
@click.argument("doc_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_AS
@click.pass_context
def documents_delete(ctx: click.Context, doc_id: int, yes: bool, as_user: str | None) -> None:
    """Move DOC_ID with its attachments and archive members to the trash (restorable until it is purged)."""
    dossier = _open(ctx)
    principal = _principal(dossier, as_user)
    shown = dossier.show(doc_id, principal)
    if not yes:
        click.confirm(
            str(
                msg(
                    "cli.documents.confirm_delete",
                    title=shown["title"] or shown["filename"],
                    days=dossier.trash.days,
                )
            ),
            abort=True,
        )
    result = dossier.documents.delete(doc_id, principal)
    click.echo(f"{msg('cli.documents.deleted')}: {', '.join(map(str, result['trashed']))}")

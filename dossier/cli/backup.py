"""``dossier backup DEST`` and ``dossier restore SRC`` (备份与恢复): the operator's commands, run on the data home's machine.

``backup`` makes a snapshot while the product serves and ingests (``--verify`` checks one without
restoring, ``--list`` lists them); ``restore`` puts one into an empty home and rebuilds the index.
See :mod:`dossier.app.backup` and :mod:`dossier.app.restore`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dossier.cli._common import _echo_json, _open, label
from foundation.messages import msg


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@click.command()
@click.argument("dest", type=click.Path(file_okay=False))
@click.option(
    "--include-keys",
    is_flag=True,
    help="Also write the blob key file and the web session key into the backup.",
)
@click.option(
    "--keep",
    type=click.IntRange(1),
    help="Keep only the newest N snapshots in DEST (and the blobs they need).",
)
@click.option(
    "--verify",
    "check",
    is_flag=True,
    help="Check the newest (or --snapshot) snapshot in DEST; back up nothing.",
)
@click.option("--list", "listing", is_flag=True, help="List the finished snapshots in DEST.")
@click.option("--snapshot", help="With --verify: the snapshot to check (a name --list shows).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def backup(
    ctx: click.Context,
    dest: str,
    include_keys: bool,
    keep: int | None,
    check: bool,
    listing: bool,
    snapshot: str | None,
    as_json: bool,
) -> None:
    """Back up the data home into the folder DEST while it serves and ingests (备份).

    Each run adds a snapshot (records, settings, manifest) under DEST/snapshots and copies only
    the originals DEST/blobs does not hold yet.  Keys are left out unless --include-keys: keep
    the key file apart from the backup.  Exits 1 when an original the records name is missing.
    """
    from dossier.app.backup import Destination, verify

    if listing:
        where = Destination(Path(dest))
        names = [p.name for p in where.complete()]
        if as_json:
            _echo_json({"snapshots": names, "unfinished": [p.name for p in where.unfinished()]})
        else:
            for name in names:
                click.echo(name)
        return
    if check:
        folder, manifest, problems = verify(dest, snapshot)
        if as_json:
            _echo_json(
                {
                    "snapshot": folder.name,
                    "ok": not problems,
                    "files": len(manifest.files),
                    "blobs": len(manifest.blobs),
                    "problems": [{"path": p, "error": why} for p, why in problems],
                }
            )
        else:
            for path, why in problems:
                click.echo(f"  ✗ {path}: {why}")
            key = "cli.backup.verify_bad" if problems else "cli.backup.verify_ok"
            click.echo(
                str(
                    msg(
                        key,
                        snapshot=folder.name,
                        files=len(manifest.files),
                        blobs=len(manifest.blobs),
                        n=len(problems),
                    )
                )
            )
        if problems:
            ctx.exit(1)
        return
    dossier = _open(ctx)
    try:
        report = dossier.backups.backup(dest, include_keys=include_keys, keep=keep)
    finally:
        dossier.close()
    if as_json:
        _echo_json(report.as_json())
    else:
        click.echo(
            str(
                msg(
                    "cli.backup.done",
                    path=report.path,
                    blobs=report.blobs,
                    new=report.new_blobs,
                    size=_size(report.size),
                    total=_size(report.total_size),
                    seconds=f"{report.seconds:.1f}",
                )
            )
        )
        counts = report.counts
        click.echo("  " + "  ".join(f"{k}: {v}" for k, v in counts.items()))
        if report.removed:
            click.echo(f"  {label('cli.backup.removed')}: {', '.join(report.removed)}")
        if report.keys_included:
            click.echo(f"! {msg('cli.backup.keys_inside')}", err=True)
        elif dossier.blobs.keys.keys:
            click.echo(str(msg("cli.backup.keys_apart")), err=True)
    if report.missing:
        click.echo(f"! {msg('backup.missing_blobs', n=len(report.missing))}", err=True)
        for name in report.missing[:20]:
            click.echo(f"  ✗ {name}", err=True)
        ctx.exit(1)


@click.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option("--snapshot", help="The snapshot to restore (default: the newest finished one).")
@click.option(
    "--keys-to",
    type=click.Path(dir_okay=False),
    help="Where a backup's key file goes (default: DOSSIER_HOME/restored-blob-keys); never over an existing file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def restore(ctx: click.Context, src: str, snapshot: str | None, keys_to: str | None, as_json: bool) -> None:
    """Restore a backup folder SRC into an empty data home, then rebuild the search index (恢复).

    Every file of the snapshot is checked first: a missing, truncated or altered one is named and
    nothing is changed.  A home that holds documents, customers, originals or users is refused.
    A backup made by an older version is migrated.  Stop `dossier serve` and the workers first.
    """
    from dossier.app.restore import restore_home

    settings = ctx.find_root().obj["settings"]
    show = sys.stderr.isatty() and not as_json

    def progress(done: int, total: int) -> None:
        if show:
            click.echo(f"\r{label('cli.reindex.progress')} {done}/{total}", nl=False, err=True)

    report = restore_home(
        settings, src, snapshot=snapshot, keys_to=Path(keys_to) if keys_to else None, progress=progress
    )
    if show:
        click.echo("", err=True)
    if as_json:
        _echo_json(report.as_json())
        return
    click.echo(
        str(
            msg(
                "cli.restore.done",
                snapshot=report.snapshot,
                home=settings.home,
                documents=report.counts.get("documents", 0),
                blobs=report.blobs,
                indexed=report.indexed,
            )
        )
    )
    if report.migrated:
        click.echo(str(msg("cli.restore.migrated", revision=report.revision)))
    for path in report.keys_written:
        click.echo(f"! {msg('cli.restore.keys_written', path=path)}")
    if report.keys_missing:
        click.echo(f"! {msg('cli.restore.keys_missing', keys=', '.join(report.keys_missing))}")

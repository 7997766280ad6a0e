"""``dossier keys …``: encryption at rest of the stored originals and cached page images (静态加密).

``generate`` writes a new key file (mode 0600; the key itself is never printed), ``status``
counts blobs by key (``--verify`` decrypts and checks each), ``rotate`` brings every blob under
one key — the current one, or ``--new-key-file``'s — resumably, one atomic file at a time.
These commands need only the blob folder and the key settings, not the database.
"""

from __future__ import annotations

import stat
import sys
import time
from pathlib import Path
from typing import Any

import click

from dossier.cli._common import _echo_json, label, shown
from foundation.errors import ConfigError
from foundation.messages import msg, translate


def _keys(settings: Any) -> Any:
    from records import KeyRing

    return KeyRing.from_settings(
        settings.get("DOSSIER_BLOB_KEY"),
        settings.get("DOSSIER_BLOB_KEY_FILE"),
        settings.get("DOSSIER_BLOB_KEY_OLD"),
    )


def _store(ctx: click.Context) -> Any:
    """The blob store of the data home with the configured keys."""
    from records import BlobStore

    settings = ctx.find_root().obj["settings"]
    return BlobStore(settings.blob_dir, _keys(settings))


class _Progress:
    """``label done/total`` on stderr: redrawn in place on a terminal, a line per tenth otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._tenth = -1

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self._last >= 0.2 or done == total:
                self._last = now
                click.echo(f"\r{self.label} {done}/{total}", err=True, nl=done == total)
            return
        tenth = done * 10 // max(total, 1)
        if tenth != self._tenth:
            self._tenth = tenth
            click.echo(f"{self.label} {done}/{total}", err=True)


@click.group()
def keys() -> None:
    """Encryption at rest (静态加密) of stored originals and page images: generate, status, rotate."""


@keys.command("generate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--add",
    is_flag=True,
    help="FILE is an existing key file: put the new key first (it encrypts from now on) and keep its keys below it (they still decrypt).",
)
@click.pass_context
def keys_generate(ctx: click.Context, file: str, add: bool) -> None:
    """Write a new random key into FILE (mode 0600); the key itself is never printed.

    Point DOSSIER_BLOB_KEY_FILE at FILE (or copy its key into DOSSIER_BLOB_KEY), restart the
    server and workers, then run `dossier keys rotate`.  Keep a copy of FILE somewhere safe
    and apart from the data: without the key the originals cannot be read.
    """
    from records import BlobKey, read_key_file, write_key_file

    path = Path(file).expanduser().absolute()
    key = BlobKey.generate()
    if add:
        kept = read_key_file(path)
        write_key_file(path, key, kept, replace=True)
        click.echo(str(msg("cli.keys.added", key=key.id, path=path, n=len(kept))))
    else:
        if path.exists():
            raise ConfigError(msg("cli.keys.exists", path=path))
        write_key_file(path, key)
        click.echo(str(msg("cli.keys.written", key=key.id, path=path)))
    home = ctx.find_root().obj["settings"].home
    if path.is_relative_to(home):
        click.echo(f"! {msg('cli.keys.inside_home')}", err=True)
    next_step = msg("cli.keys.next_added") if add else msg("cli.keys.next_new", path=path)
    click.echo(str(next_step))


def _describe(counts: dict[str, int], current: str | None, configured: set[str]) -> str:
    parts = []
    for state, n in sorted(counts.items(), key=lambda kv: (kv[0] != "plaintext", kv[0])):
        if state == "plaintext":
            parts.append(f"{label('cli.keys.plaintext')} {n}")
        elif state == "unreadable":
            parts.append(f"{label('cli.keys.unreadable')} {n}")
        else:
            mark = label(
                "cli.keys.current"
                if state == current
                else "cli.keys.old"
                if state in configured
                else "cli.keys.unconfigured"
            )
            parts.append(f"{label('cli.keys.key')} {state} ({mark}) {n}")
    return "，".join(parts) if parts else label("cli.keys.none")


@keys.command("status")
@click.option(
    "--verify", is_flag=True, help="Also read, decrypt and check every blob (reads everything: slow)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def keys_status(ctx: click.Context, verify: bool, as_json: bool) -> None:
    """How many blobs are plaintext and how many are encrypted under which key id.

    Exits 1 when a blob is under a key that is not configured or (with --verify) cannot be read.
    """
    settings = ctx.find_root().obj["settings"]
    store = _store(ctx)
    census = store.census(
        verify=verify, progress=_Progress(label("cli.keys.verify")) if verify and not as_json else None
    )
    current = store.keys.current.id if store.keys.current is not None else None
    configured = {k.id for k in store.keys.keys}
    stranded = sorted(
        {
            s
            for counts in (census.originals, census.cached)
            for s in counts
            if s not in ("plaintext", "unreadable")
        }
        - configured
    )
    if as_json:
        _echo_json(
            {
                "encryption": current is not None,
                "current_key": current,
                "keys": [k.id for k in store.keys.keys],
                "originals": census.originals,
                "cached": census.cached,
                "unconfigured_keys": stranded,
                "problems": [{"blob": name, "error": message} for name, message in census.problems],
            }
        )
    else:
        if current:
            click.echo(
                f"{msg('cli.keys.encryption')}: {label('cli.keys.on')}，{msg('cli.keys.current_key')} {current}"
            )
        else:
            click.echo(
                f"{msg('cli.keys.encryption')}: {label('cli.keys.off')}"
                f"（{translate('cli.keys.unset', 'zh')} DOSSIER_BLOB_KEY / DOSSIER_BLOB_KEY_FILE）"
            )
        olds = [k.id for k in store.keys.keys if k.id != current]
        if olds:
            click.echo(f"{msg('cli.keys.old_keys')}: {', '.join(olds)}")
        click.echo(
            f"{msg('cli.keys.originals')}: {sum(census.originals.values())}（{_describe(census.originals, current, configured)}）"
        )
        click.echo(
            f"{msg('cli.keys.cached')}: {sum(census.cached.values())}（{_describe(census.cached, current, configured)}）"
        )
        behind = sum(
            n
            for counts in (census.originals, census.cached)
            for s, n in counts.items()
            if s not in (current, "unreadable")
        )
        if current and behind:
            click.echo(f"! {msg('cli.keys.behind', n=behind)}")
        for key_id in stranded:
            click.echo(
                f"! {msg('cli.keys.stranded', key=key_id)}",
            )
        for name, message in census.problems:
            click.echo(f"  ✗ {name}: {shown(message)}")
        key_file = settings.get("DOSSIER_BLOB_KEY_FILE").strip()
        if key_file and Path(key_file).expanduser().stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            click.echo(
                f"! {msg('cli.keys.readable', path=key_file)}",
                err=True,
            )
    if stranded or census.problems:
        ctx.exit(1)


@keys.command("rotate")
@click.option(
    "--new-key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Re-encrypt under the first key of this file instead of the current key (only while no server or worker runs with the old settings).",
)
@click.pass_context
def keys_rotate(ctx: click.Context, new_key_file: str | None) -> None:
    """Re-encrypt every original and cached blob under the current key (or --new-key-file's).

    Plaintext originals are encrypted too: run it after turning encryption on.  Each file is
    swapped atomically; interrupted, it leaves every blob readable, and running it again carries
    on (blobs already under the key are skipped).  Exits 1 when an original could not be read.
    """
    from records import read_key_file

    target = read_key_file(Path(new_key_file))[0] if new_key_file else None
    store = _store(ctx)
    goal = target or store.keys.current
    rotating = label("cli.keys.rotate")
    report = store.rotate(target, progress=_Progress(f"{rotating} → {goal.id}" if goal else rotating))
    click.echo(
        str(
            msg(
                "cli.keys.rotated",
                key=report.key_id,
                resealed=report.resealed,
                already=report.already,
                dropped=report.dropped,
                failed=len(report.failed),
                total=report.total,
            )
        )
    )
    for name, message in report.removed:
        click.echo(f"  - {name}: {shown(message)}")
    for name, message in report.failed:
        click.echo(f"  ✗ {name}: {shown(message)}")
    if target is not None and (store.keys.current is None or store.keys.current.id != target.id):
        click.echo(str(msg("cli.keys.next_rotated", path=new_key_file)))
    if report.failed:
        ctx.exit(1)

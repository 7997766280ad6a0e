"""The backup folder (DEST): snapshots beside one shared, content-addressed pool of blob files.

Layout::

    DEST/.lock                              one writer at a time (flock); readers take it shared
    DEST/blobs/ab/<sha256>                  a plaintext original, named by its sha256 (= the file's)
    DEST/blobs/ab/<sha256>.<key id>         an original sealed under that key, copied as stored
    DEST/snapshots/<UTC time>/records.sqlite | records.pgdump
                             settings.json  the settings that matter (no secret, passwords redacted)
                             keys           only with --include-keys: the blob key file
                             MANIFEST.json  written last, atomically: sha256 and size of every file
                                            and of every pool file the snapshot needs

A snapshot folder without ``MANIFEST.json`` is a backup that did not finish (killed, disk
full): it is never listed, verified or restored, and the next backup (holding the lock)
removes it.  Pool files are written once (a temporary file renamed into place; synced to disk
with the rest before the manifest) and never changed: a later backup adds only the blobs the pool lacks, so older manifests stay true.
A blob re-encrypted under another key is another pool file.  Keeping the last N snapshots
removes the older ones, then every pool file no kept manifest names.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from dossier.app.backup._records import BackupError
from foundation.messages import msg
from records import atomic_write

MANIFEST = "MANIFEST.json"
#: The manifest format this code writes and reads.
FORMAT = 1
_PIECE = 1 << 20
#: One backup folder, one user at a time within this process (the file lock covers other processes).
_THREAD_LOCKS: dict[str, threading.Lock] = {}


class BackupBusy(BackupError):
    """Another process is writing a backup into the same folder."""

    status = 409


class BackupInvalid(BackupError):
    """A backup fails its checks (a file is missing, truncated or altered): nothing was restored."""

    status = 422


def file_digest(path: Path) -> tuple[int, str]:
    """(size, sha256) of a file, streamed."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while piece := fh.read(_PIECE):
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` beside ``target``, fsync it, rename it over ``target``, fsync the folder."""
    atomic_write(target, lambda fh: fh.write(data), sync_folder=True)


@dataclass
class BlobEntry:
    """One original as a snapshot holds it: its pool file, that file's size and sha256, and its key."""

    name: str  # the sha256 of the plaintext (the home's blob name)
    key: str  # "" for plaintext, else the 16-hex-digit key id it is sealed under
    size: int
    sha256: str  # of the pool file as stored

    @property
    def relpath(self) -> str:
        """The pool file, relative to DEST."""
        return f"blobs/{self.name[:2]}/{self.name}" + (f".{self.key}" if self.key else "")

    def row(self) -> list[Any]:
        """The compact manifest form: [name, key, size, sha256] with sha256 "" when it is the name."""
        return [self.name, self.key, self.size, "" if self.sha256 == self.name else self.sha256]

    @classmethod
    def from_row(cls, row: list[Any]) -> BlobEntry:
        """The entry of a manifest row."""
        name, key, size, sha = row
        return cls(str(name), str(key), int(size), str(sha) or str(name))


@dataclass
class Manifest:
    """A snapshot's manifest (see the module docstring)."""

    data: dict[str, Any]
    blobs: list[BlobEntry] = field(default_factory=list)

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """Snapshot file name -> {"size", "sha256"}."""
        return dict(self.data.get("files") or {})

    def dumps(self) -> bytes:
        """The manifest as written (UTF-8 JSON)."""
        out = dict(self.data, blobs=[b.row() for b in self.blobs])
        return json.dumps(out, ensure_ascii=False, indent=1).encode("utf-8")


class Destination:
    """A backup folder: its lock, snapshots, manifests and blob pool."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.snapshots_dir = self.root / "snapshots"
        self.pool = self.root / "blobs"

    # -- locking ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, *, shared: bool = False) -> Iterator[None]:
        """Hold the folder's lock (exclusive to write a backup, shared to read one); BackupBusy when taken.

        A POSIX record lock (``lockf``) between processes — unlike ``flock`` it is not inherited by the
        parser children a process forks, which would hold it after the backup — and a thread lock within one.
        """
        if shared and not self.root.is_dir():
            yield
            return
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        guard = _THREAD_LOCKS.setdefault(str(self.root), threading.Lock())
        if not guard.acquire(blocking=False):
            raise BackupBusy(msg("backup.busy", dest=self.root))
        try:
            with (self.root / ".lock").open("a+") as fh:
                try:
                    fcntl.lockf(fh, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                except OSError:
                    raise BackupBusy(msg("backup.busy", dest=self.root)) from None
                yield
        finally:
            guard.release()

    # -- snapshots ----------------------------------------------------------------------------

    def complete(self) -> list[Path]:
        """Finished snapshots (with a manifest), oldest first."""
        if not self.snapshots_dir.is_dir():
            return []
        return sorted(
            (p for p in self.snapshots_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file()), key=_made
        )

    def unfinished(self) -> list[Path]:
        """Snapshot folders a backup left without a manifest (killed, failed)."""
        if not self.snapshots_dir.is_dir():
            return []
        return sorted(
            (p for p in self.snapshots_dir.iterdir() if p.is_dir() and not (p / MANIFEST).is_file()),
            key=_made,
        )

    def find(self, name: str | None) -> Path:
        """The snapshot called ``name`` (default: the newest finished one); BackupInvalid when there is none."""
        if name is None:
            done = self.complete()
            if not done:
                raise BackupInvalid(msg("backup.none_found", dest=self.root))
            return done[-1]
        path = self.snapshots_dir / name
        if "/" in name or name.startswith(".") or not path.is_dir():
            raise BackupInvalid(msg("backup.snapshot_unknown", name=name, dest=self.root))
        if not (path / MANIFEST).is_file():
            raise BackupInvalid(msg("backup.snapshot_unfinished", name=name))
        return path

    def new_snapshot(self, now: datetime | None = None) -> Path:
        """Make the folder of a new snapshot, named by the UTC time (a suffix when that name is taken)."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        self.snapshots_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for n in range(1000):
            path = self.snapshots_dir / (stamp if n == 0 else f"{stamp}-{n:03d}")
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            return path
        raise BackupError(msg("backup.snapshot_names", dest=self.root))

    def read_manifest(self, snapshot: Path) -> Manifest:
        """The manifest of a snapshot; BackupInvalid naming it when it cannot be read."""
        path = snapshot / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or int(data.get("format", 0)) > FORMAT:
                raise ValueError("format")
            blobs = [BlobEntry.from_row(row) for row in data.pop("blobs", [])]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise BackupInvalid(msg("backup.manifest_unreadable", path=path, detail=str(exc)[:200])) from None
        return Manifest(data, blobs)

    def write_manifest(self, snapshot: Path, manifest: Manifest) -> None:
        """Write the manifest last and atomically: from now on the snapshot counts as finished.

        Everything written before it reaches the disk first (one ``sync`` instead of one ``fsync`` per
        pool file), so after a power cut a manifest never names a file that was lost.
        """
        os.sync()
        write_atomically(snapshot / MANIFEST, manifest.dumps())

    # -- the blob pool ------------------------------------------------------------------------

    def known_hashes(self) -> dict[str, str]:
        """Pool file -> sha256 of the sealed pool files the newest finished manifest lists (saves reading them)."""
        done = self.complete()
        if not done:
            return {}
        try:
            manifest = self.read_manifest(done[-1])
        except BackupInvalid:
            return {}
        return {b.relpath: b.sha256 for b in manifest.blobs if b.key}

    def add_blob(self, source: Path, name: str, state: str, known: dict[str, str]) -> tuple[BlobEntry, bool]:
        """Put the home's blob file ``source`` (named ``name``; ``state``: ``plaintext`` or the key id its header
        names) into the pool unless it is there; (entry, copied).

        Copied as stored (a sealed blob stays sealed); a plaintext blob whose bytes do not hash to
        its name is refused (BackupError naming it) rather than backed up.
        """
        entry = BlobEntry(name, "" if state == "plaintext" else state, 0, name)
        target = self.root / entry.relpath
        if target.is_file():
            entry.size = target.stat().st_size
            entry.sha256 = name if not entry.key else known.get(entry.relpath) or file_digest(target)[1]
            return entry, False

        def copy(out: BinaryIO) -> None:
            digest = hashlib.sha256()
            with source.open("rb") as src:
                while piece := src.read(_PIECE):
                    digest.update(piece)
                    out.write(piece)
                    entry.size += len(piece)
            entry.sha256 = digest.hexdigest()
            if not entry.key and entry.sha256 != name:  # refused before the rename: nothing lands
                raise BackupError(msg("backup.blob_corrupt_in_home", blob=name, path=source))

        atomic_write(target, copy)
        return entry, True

    # -- checks and pruning -------------------------------------------------------------------

    def problems(self, snapshot: Path, manifest: Manifest) -> list[tuple[str, str]]:
        """Every file of the snapshot and every pool file it needs that is missing or differs: (path, why)."""
        found: list[tuple[str, str]] = []
        for name, expected in sorted(manifest.files.items()):
            found += _check(snapshot / name, int(expected["size"]), str(expected["sha256"]), self.root)
        for entry in manifest.blobs:
            found += _check(self.root / entry.relpath, entry.size, entry.sha256, self.root)
        extra = sorted(
            p.name for p in snapshot.iterdir() if p.name != MANIFEST and p.name not in manifest.files
        )
        found += [
            (str((snapshot / n).relative_to(self.root)), "unexpected") for n in extra if not n.startswith(".")
        ]
        return found

    def prune(self, keep: int) -> list[str]:
        """Keep the newest ``keep`` finished snapshots; remove the rest, unfinished ones and unneeded pool files.

        Call with the exclusive lock held.  Returns the names of the snapshots removed.
        """
        removed = []
        for path in self.unfinished():
            shutil.rmtree(path, ignore_errors=True)
        done = self.complete()
        for path in done[: max(0, len(done) - max(keep, 1))]:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        needed: set[str] = set()
        for path in self.complete():
            needed.update(b.relpath for b in self.read_manifest(path).blobs)
        if self.pool.is_dir():
            for bucket in self.pool.iterdir():
                for file in bucket.iterdir() if bucket.is_dir() else ():
                    if str(file.relative_to(self.root)) not in needed:
                        file.unlink(missing_ok=True)
        return removed


def _made(snapshot: Path) -> tuple[str, int]:
    """The order snapshots were made in: by their UTC time, then by the suffix a second one that second got."""
    stamp, _, suffix = snapshot.name.partition("-")
    return stamp, int(suffix) if suffix.isdigit() else 0


def _check(path: Path, size: int, sha256: str, root: Path) -> list[tuple[str, str]]:
    shown = str(path.relative_to(root))
    try:
        actual_size = path.stat().st_size
    except FileNotFoundError:
        return [(shown, "missing")]
    if actual_size != size:
        return [(shown, f"size {actual_size} != {size}")]
    if file_digest(path)[1] != sha256:
        return [(shown, "sha256")]
    return []


def verify(dest: Path | str, snapshot: str | None = None) -> tuple[Path, Manifest, list[tuple[str, str]]]:
    """Check a snapshot (default: the newest finished one) without restoring it: (its folder, manifest, problems).

    Reads every file of the snapshot and every pool file it needs; ``problems`` lists each one that is
    missing, has another size or another sha256, as (path relative to DEST, what is wrong).
    """
    where = Destination(Path(dest))
    with where.lock(shared=True):
        path = where.find(snapshot)
        manifest = where.read_manifest(path)
        return path, manifest, where.problems(path, manifest)


def utc_iso(moment: datetime | None = None) -> str:
    """A UTC time as ISO text (seconds)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


__all__ = [
    "FORMAT",
    "MANIFEST",
    "BackupBusy",
    "BackupInvalid",
    "BlobEntry",
    "Destination",
    "Manifest",
    "file_digest",
    "utc_iso",
    "verify",
    "write_atomically",
]

"""``dossier restore``: put a backup (:mod:`dossier.app.backup`) into an empty data home, then rebuild the index.

Order, so that a bad backup or a wrong target changes nothing:

1. check: the snapshot's manifest, then every file and every pool file it needs (size and
   sha256) — the first one that is wrong is named and nothing is touched; the backup's schema
   revision is one this code knows (a newer one is refused); the records kind matches the
   target (a SQLite copy into SQLite, a ``pg_dump`` into PostgreSQL); the target home is empty
   (no documents, customers, versions or originals; users besides ``admin`` count too, so a
   freshly ``dossier init``-ed home is empty);
2. copy: the blob files as stored (encrypted ones stay encrypted), the records (the SQLite
   file swapped in, or ``pg_restore`` in one transaction), the key files when the backup has
   them (to ``keys_to``; never over an existing file);
3. open the home: an older schema is migrated to this version's (the same upgrade any older
   home gets), the backup's own run is marked ``done``, and the search index is rebuilt from
   the records on whichever backend the settings name.

If copying fails half-way, what this restore wrote is removed again.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

import records
from dossier.app.backup import (
    BackupInvalid,
    Destination,
    Manifest,
    drop_empty_schema,
    is_postgres,
    records_file_name,
    restore_postgres,
)
from dossier.app.services import Dossier
from foundation.config import Settings
from foundation.errors import DossierError
from foundation.messages import msg
from records import BackupRun, BlobStore, Customer, Document, User, Version

__all__ = ["RestoreRefused", "RestoreReport", "restore_home"]


class RestoreRefused(DossierError):
    """The target home is not empty, or the backup does not fit it: nothing was changed."""

    status = 409


@dataclass
class RestoreReport:
    """What a restore did."""

    snapshot: str
    revision: str | None  # of the backup
    migrated: bool  # the backup's schema was older and was brought up to date
    counts: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    indexed: int = 0
    keys_written: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)  # keys the restored originals are sealed under
    keys_missing: list[str] = field(default_factory=list)  # of those, the ones the settings lack
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object (``dossier restore --json``)."""
        return {
            "snapshot": self.snapshot,
            "revision": self.revision,
            "migrated": self.migrated,
            "counts": self.counts,
            "blobs": self.blobs,
            "indexed": self.indexed,
            "keys_written": self.keys_written,
            "key_ids": self.key_ids,
            "keys_missing": self.keys_missing,
            "seconds": round(self.seconds, 3),
        }


def restore_home(
    settings: Settings,
    src: Path | str,
    *,
    snapshot: str | None = None,
    keys_to: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RestoreReport:
    """Restore the snapshot ``snapshot`` (default: the newest) of the backup folder ``src`` into ``settings``' home."""
    started = time.monotonic()
    where = Destination(Path(src))
    with where.lock(shared=True):
        snap = where.find(snapshot)
        manifest = where.read_manifest(snap)
        problems = where.problems(snap, manifest)
        if problems:
            path, why = problems[0]
            raise BackupInvalid(msg("backup.invalid", path=path, why=why, n=len(problems)))
        revision = manifest.data.get("schema_revision")
        known = records.known_revisions()
        if revision not in known:
            raise RestoreRefused(msg("restore.newer_schema", revision=revision, head=known[-1]))
        engine = records.make_engine(settings.database_url)
        try:
            _check_target(settings, engine, manifest)
            keys_plan = _keys_plan(settings, manifest, keys_to)
            written = _copy_in(settings, engine, where, snap, manifest, keys_plan)
        finally:
            engine.dispose()
    report = RestoreReport(snap.name, revision, migrated=revision != known[-1], blobs=len(manifest.blobs))
    report.keys_written = [str(p) for p in written]
    report.key_ids = list(manifest.data.get("key_ids") or [])
    report.indexed, report.counts, ring = _open_and_index(settings, manifest, progress)
    report.keys_missing = [k for k in report.key_ids if k not in ring]
    report.seconds = time.monotonic() - started
    return report


def _sqlite_path(engine: Any) -> Path:
    return Path(engine.url.database or "")


def _check_target(settings: Settings, engine: Any, manifest: Manifest) -> None:
    expected = records_file_name(engine)
    if manifest.data.get("records") != expected:
        raise RestoreRefused(
            msg("restore.wrong_profile", backup=manifest.data.get("records"), target=expected)
        )
    if any(True for _ in BlobStore(settings.blob_dir).originals()):
        raise RestoreRefused(msg("restore.not_empty", home=settings.home, what=settings.blob_dir))
    if not is_postgres(engine) and not _sqlite_path(engine).exists():
        return
    tables = set(inspect(engine).get_table_names())
    if not tables:
        return
    if "alembic_version" not in tables or not tables >= {"documents", "customers", "versions", "users"}:
        raise RestoreRefused(msg("restore.not_empty", home=settings.home, what=engine.url.render_as_string()))
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        busy = (
            session.scalar(select(func.count()).select_from(Document))
            or session.scalar(select(func.count()).select_from(Customer))
            or session.scalar(select(func.count()).select_from(Version))
            or session.scalar(select(func.count()).select_from(User).where(User.username != "admin"))
        )
    if busy:
        raise RestoreRefused(msg("restore.not_empty", home=settings.home, what=records.redacted(engine.url)))


def _keys_plan(settings: Settings, manifest: Manifest, keys_to: Path | None) -> dict[str, Path]:
    """Snapshot key file -> where it goes; refused (before anything changes) when that place is taken."""
    plan = {}
    if "keys" in manifest.files:
        plan["keys"] = (keys_to or settings.home / "restored-blob-keys").expanduser().absolute()
    if "secret_key" in manifest.files and not settings.get("DOSSIER_SECRET_KEY"):
        plan["secret_key"] = settings.home / "secret_key"
    for target in plan.values():
        if target.exists() and target.name != "secret_key":
            raise RestoreRefused(msg("restore.keys_exist", path=target))
    return plan


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with source.open("rb") as src:
        records.atomic_write(target, lambda out: shutil.copyfileobj(src, out))


def _copy_in(
    settings: Settings,
    engine: Any,
    where: Destination,
    snap: Path,
    manifest: Manifest,
    keys_plan: dict[str, Path],
) -> list[Path]:
    """Copy blobs, records and keys in; on failure remove what was written.  Returns the key files written."""
    written: list[Path] = []
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = BlobStore(settings.blob_dir)
    records_file = snap / str(manifest.data["records"])
    try:
        for entry in manifest.blobs:
            target = store.path(entry.name)
            _copy_file(where.root / entry.relpath, target)
            written.append(target)
        if is_postgres(engine):
            tables = inspect(engine).get_table_names()
            if tables:
                drop_empty_schema(engine, tables)
            restore_postgres(engine, records_file)
        else:
            db = _sqlite_path(engine)
            engine.dispose()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            _copy_file(records_file, db)
            written.append(db)
            db.chmod(0o600)
        keys = []
        for name, target in keys_plan.items():
            _copy_file(snap / name, target)
            target.chmod(0o600)
            keys.append(target)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [p for p in keys if p.name != "secret_key"]


def _open_and_index(
    settings: Settings, manifest: Manifest, progress: Callable[[int, int], None] | None
) -> tuple[int, dict[str, int], set[str]]:
    """Open the restored home (migrating an older schema), mark the backup's run done, rebuild the index."""
    home = Dossier.open(settings)
    try:
        run_id = manifest.data.get("run_id")
        with home.sessions() as session:
            run = session.get(BackupRun, run_id) if run_id else None
            if run is not None and run.status == "running":
                run.status = "done"
                run.finished_at = _parse_time(manifest.data.get("created_at"))
            session.commit()
        home.backend.ensure_schema()
        indexed = home.reindex(restart=True, progress=progress)
        counts = _counts(home)
        home.audit.record(
            "system",
            "restore",
            detail={
                "snapshot": manifest.data.get("snapshot"),
                "created_at": manifest.data.get("created_at"),
                "schema_revision": manifest.data.get("schema_revision"),
                "documents": counts.get("documents"),
                "indexed": indexed,
            },
        )
        return indexed, counts, {k.id for k in home.blobs.keys.keys}
    finally:
        home.close()


def _counts(home: Dossier) -> dict[str, int]:
    from records import AuditEvent, Page

    tables = {
        "documents": Document,
        "versions": Version,
        "pages": Page,
        "customers": Customer,
        "users": User,
        "audit_events": AuditEvent,
    }
    with home.sessions() as session:
        return {k: int(session.scalar(select(func.count()).select_from(t)) or 0) for k, t in tables.items()}


def _parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text)).replace(tzinfo=None)

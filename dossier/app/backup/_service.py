"""The ``backups`` service of an open data home: make a backup, on demand or on schedule; say how old the last is.

A backup takes the records snapshot FIRST (see :mod:`._records`), then copies the blobs that
snapshot's versions refer to: an original is stored before the row that names it commits, so
every blob the snapshot needs is on disk by then, and one stored later is not needed.  Blob
files are copied as stored (an encrypted home backs up encrypted blobs); keys go into a
backup only when asked (``include_keys``).  The manifest is written last (:mod:`._pool`).

Each run is a :class:`records.BackupRun` row of the live home (``running`` → ``done`` or
``failed``) and a ``backup`` audit event; the snapshot holds the row as ``running`` (it was
copied mid-run), and a restore marks it ``done``.

Scheduled backups: with ``DOSSIER_BACKUP_DIR`` set, every worker (and ``dossier serve``) runs a
:class:`BackupScheduler` thread that makes one when the last finished backup is older than
``DOSSIER_BACKUP_EVERY_HOURS`` and keeps the last ``DOSSIER_BACKUP_KEEP``; the folder's lock
lets one process at a time do it, and a failed run is tried again after an hour at the soonest.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

import dossier
import records
from dossier.app.backup._pool import (
    FORMAT,
    BackupBusy,
    BlobEntry,
    Destination,
    Manifest,
    file_digest,
    utc_iso,
)
from dossier.app.backup._records import BackupError, copy_records
from dossier.app.resources import HomeResources
from foundation.config import SETTINGS, Settings
from foundation.messages import msg, stored
from records import BackupRun, utcnow

log = logging.getLogger("dossier.backup")

#: Settings never written into a backup (keys go only into ``keys``, with --include-keys).
SECRET_SETTINGS = frozenset(
    {"DOSSIER_SECRET_KEY", "DOSSIER_ADMIN_PASSWORD", "DOSSIER_BLOB_KEY", "DOSSIER_BLOB_KEY_OLD"}
)
#: Settings holding URLs whose password is redacted in settings.json.
_URL_SETTINGS = ("DOSSIER_DATABASE_URL", "DOSSIER_REDIS_URL", "DOSSIER_OPENSEARCH_URL")
#: Seconds between a scheduler's looks at whether a backup is due.
CHECK_S = 300.0
#: The soonest a scheduled backup is tried again after one that failed (or was killed).
RETRY_AFTER = timedelta(hours=1)


@dataclass
class BackupReport:
    """What one backup did."""

    snapshot: str
    path: Path
    files: int = 0  # files of the snapshot folder (records, settings, keys, manifest)
    blobs: int = 0  # originals the snapshot holds
    new_blobs: int = 0  # of which copied by this run (the rest were in the pool already)
    size: int = 0  # bytes this run wrote
    total_size: int = 0  # bytes the snapshot needs (its files and all its pool files)
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # originals the records name that the home lacks
    removed: list[str] = field(default_factory=list)  # older snapshots removed (keep the last N)
    keys_included: bool = False

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object (``dossier backup --json``)."""
        return {
            "snapshot": self.snapshot,
            "path": str(self.path),
            "files": self.files,
            "blobs": self.blobs,
            "new_blobs": self.new_blobs,
            "size": self.size,
            "total_size": self.total_size,
            "seconds": round(self.seconds, 3),
            "counts": self.counts,
            "missing_blobs": self.missing,
            "removed": self.removed,
            "keys_included": self.keys_included,
        }


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def settings_document(settings: Settings, engine_url: Any) -> dict[str, Any]:
    """The settings that matter, for ``settings.json``: the profile and every DOSSIER_* but the secrets."""
    values = {}
    for setting in SETTINGS:
        if setting.name in SECRET_SETTINGS:
            continue
        value = settings.get(setting.name)
        values[setting.name] = _without_password(value) if setting.name in _URL_SETTINGS else value
    values["DOSSIER_DATABASE_URL"] = records.redacted(engine_url)
    return {
        "profile": {
            "records": "postgresql" if engine_url.get_backend_name() == "postgresql" else "sqlite",
            "index": "opensearch" if settings.get("DOSSIER_OPENSEARCH_URL").strip() else "embedded",
        },
        "settings": values,
        "secrets_left_out": sorted(SECRET_SETTINGS),
    }


class BackupService:
    """Backups of one open data home (see the module docstring)."""

    def __init__(self, home: HomeResources, record: Callable[..., Any]) -> None:
        self.home = home
        self._record = record  # AuditService.record

    # -- making one ---------------------------------------------------------------------------

    def backup(
        self,
        dest: Path | str,
        *,
        include_keys: bool = False,
        keep: int | None = None,
        actor: str = "system",
    ) -> BackupReport:
        """Back up the home into the folder ``dest`` (made if needed); keep the newest ``keep`` snapshots there.

        Raises :class:`BackupBusy` while another backup writes into ``dest``.
        """
        where = Destination(Path(dest))
        with where.lock():
            return self._backup_locked(
                where, include_keys=include_keys, keep=keep, scheduled=False, actor=actor
            )

    def _backup_locked(
        self, where: Destination, *, include_keys: bool, keep: int | None, scheduled: bool, actor: str
    ) -> BackupReport:
        started = time.monotonic()
        if where.unfinished():  # what a killed run left: its folder and the pool files only it had
            where.prune(keep=10**9)
        run_id = self._begin(where, scheduled)
        try:
            report = self._write_snapshot(where, run_id, include_keys)
            if keep is not None:
                report.removed = where.prune(keep)
        except BaseException as exc:
            self._end(run_id, error=exc)
            raise
        report.seconds = time.monotonic() - started
        self._end(run_id, report=report)
        self._record(
            actor,
            "backup",
            detail={
                "destination": str(where.root),
                "snapshot": report.snapshot,
                "scheduled": scheduled,
                "keys_included": report.keys_included,
                "blobs": report.blobs,
                "new_blobs": report.new_blobs,
                "size": report.size,
                "missing_blobs": len(report.missing),
            },
        )
        return report

    def _write_snapshot(self, where: Destination, run_id: int, include_keys: bool) -> BackupReport:
        home = self.home
        snap = where.new_snapshot()
        report = BackupReport(snap.name, snap)
        copy = copy_records(home.engine, snap)  # FIRST: the blobs below are the ones this snapshot needs
        document = settings_document(home.settings, home.engine.url)
        (snap / "settings.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if include_keys:
            report.keys_included = self._write_keys(snap)
        known = where.known_hashes()
        entries: list[BlobEntry] = []
        for name in sorted(copy.digests | copy.extra):
            path = home.blobs.path(name)
            try:
                entry, copied = where.add_blob(path, name, home.blobs.state(path), known)
            except FileNotFoundError:  # gone from the home (or never stored: an intake job's file)
                if name in copy.digests:
                    report.missing.append(name)
                continue
            except BackupError as exc:  # a plaintext original that no longer hashes to its name
                log.warning("%s", exc.message)
                report.missing.append(name)
                continue
            entries.append(entry)
            if copied:
                report.new_blobs += 1
                report.size += entry.size
        files: dict[str, dict[str, Any]] = {}
        for path in sorted(p for p in snap.iterdir() if p.is_file() and not p.name.startswith(".")):
            size, sha = file_digest(path)
            files[path.name] = {"size": size, "sha256": sha}
            report.size += size
        report.blobs = len(entries)
        report.counts = dict(copy.counts, blobs=len(entries))
        report.total_size = sum(int(f["size"]) for f in files.values()) + sum(e.size for e in entries)
        manifest = Manifest(
            {
                "format": FORMAT,
                "app": "dossier",
                "app_version": dossier.__version__,
                "snapshot": snap.name,
                "created_at": utc_iso(),
                "run_id": run_id,
                "schema_revision": copy.revision,
                "records": copy.path.name,
                "profile": document["profile"],
                "keys_included": report.keys_included,
                "key_ids": sorted({e.key for e in entries if e.key}),
                "counts": report.counts,
                "missing_blobs": report.missing,
                "files": files,
            },
            entries,
        )
        where.write_manifest(snap, manifest)
        report.files = len(files) + 1
        return report

    def _write_keys(self, snap: Path) -> bool:
        """Write the blob key file (every key the home reads with) and the web session key file; True if any."""
        wrote = False
        ring = self.home.blobs.keys.keys
        if ring:
            records.write_key_file(snap / "keys", ring[0], ring[1:])
            wrote = True
        session_key = self.home.settings.home / "secret_key"
        if session_key.is_file():
            (snap / "secret_key").write_bytes(session_key.read_bytes())
            (snap / "secret_key").chmod(0o600)
            wrote = True
        return wrote

    # -- the runs -----------------------------------------------------------------------------

    def _begin(self, where: Destination, scheduled: bool) -> int:
        with self.home.sessions() as session:
            run = BackupRun(destination=str(where.root), status="running", scheduled=scheduled)
            session.add(run)
            session.commit()
            return int(run.id)

    def _end(
        self, run_id: int, *, report: BackupReport | None = None, error: BaseException | None = None
    ) -> None:
        with self.home.sessions() as session:
            run = session.get(BackupRun, run_id)
            if run is None:
                return
            run.finished_at = utcnow()
            if report is not None:
                run.status = "done"
                run.files = report.files + report.blobs
                run.new_blobs = report.new_blobs
                run.size = report.total_size
                run.destination = str(report.path)
                if report.missing:
                    run.error = stored(msg("backup.missing_blobs", n=len(report.missing)))
            else:
                run.status = "failed"
                run.error = stored(error) if error is not None else None
            session.commit()

    def last_runs(self) -> tuple[BackupRun | None, BackupRun | None]:
        """(the newest finished run, the newest run of any state)."""
        with self.home.sessions() as session:
            done = session.scalars(
                select(BackupRun).where(BackupRun.status == "done").order_by(BackupRun.id.desc()).limit(1)
            ).first()
            latest = session.scalars(select(BackupRun).order_by(BackupRun.id.desc()).limit(1)).first()
            session.expunge_all()
            return done, latest

    # -- schedule and status ------------------------------------------------------------------

    def _every(self) -> timedelta:
        return timedelta(hours=max(1, self.home.settings.get_int("DOSSIER_BACKUP_EVERY_HOURS")))

    def due(self, now: datetime | None = None) -> bool:
        """True when a scheduled backup should be made now (``DOSSIER_BACKUP_DIR`` set, the last one old)."""
        if not self.home.settings.get("DOSSIER_BACKUP_DIR").strip():
            return False
        now = now or utcnow()
        done, latest = self.last_runs()
        if done is not None and done.finished_at is not None and now - done.finished_at < self._every():
            return False
        return not (
            latest is not None
            and latest.status != "done"
            and now - latest.started_at < min(RETRY_AFTER, self._every())
        )

    def run_scheduled(self) -> BackupReport | None:
        """Make the scheduled backup when it is due and no other process is making it; None when not."""
        folder = self.home.settings.get("DOSSIER_BACKUP_DIR").strip()
        if not folder or not self.due():
            return None
        where = Destination(Path(folder))
        try:
            with where.lock():
                if not self.due():  # another process made it while this one waited
                    return None
                keep = max(1, self.home.settings.get_int("DOSSIER_BACKUP_KEEP"))
                return self._backup_locked(
                    where, include_keys=False, keep=keep, scheduled=True, actor="system"
                )
        except BackupBusy:
            return None

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        """The last finished backup, the latest run, and a warning when the last is old or missing (or failed)."""
        now = now or utcnow()
        settings = self.home.settings
        folder = settings.get("DOSSIER_BACKUP_DIR").strip()
        done, latest = self.last_runs()
        warning = None
        age_h = None
        if done is not None and done.finished_at is not None:
            age_h = (now - done.finished_at).total_seconds() / 3600
            if now - done.finished_at > 2 * self._every():
                warning = msg("backup.status.old", hours=int(age_h), at=_iso(done.finished_at))
        elif folder:
            warning = msg("backup.status.never", dir=folder)
        if warning is None and latest is not None and latest.status == "failed":
            warning = msg("backup.status.failed", error=records_error(latest.error))
        return {
            "dir": folder or None,
            "every_hours": settings.get_int("DOSSIER_BACKUP_EVERY_HOURS"),
            "keep": settings.get_int("DOSSIER_BACKUP_KEEP"),
            "last": _run_json(done),
            "last_age_hours": None if age_h is None else round(age_h, 1),
            "latest": _run_json(latest),
            "warning": None if warning is None else str(warning),
        }


def records_error(error: str | None) -> str:
    """A stored error in both languages (or as written)."""
    from foundation.messages import load_stored

    message = load_stored(error)
    return str(message) if message is not None else (error or "")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat(timespec="seconds")


def _run_json(run: BackupRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "destination": run.destination,
        "status": run.status,
        "scheduled": run.scheduled,
        "files": run.files,
        "new_blobs": run.new_blobs,
        "size": run.size,
        "error": records_error(run.error) if run.error else None,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


class BackupScheduler(threading.Thread):
    """Calls ``run`` (:meth:`BackupService.run_scheduled`) now and every ``every_s`` seconds until stopped."""

    def __init__(self, run: Callable[[], object], every_s: float = CHECK_S) -> None:
        super().__init__(name="dossier-backup", daemon=True)
        self._run = run
        self.every_s = every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                report = self._run()
                if report is not None:
                    log.info("scheduled backup made: %s", getattr(report, "path", report))
            except Exception:  # the next round tries again; the failed run is recorded
                log.exception("scheduled backup failed")
            self.stopped.wait(self.every_s)

    def stop(self) -> None:
        """End after the current round (a backup in progress finishes first)."""
        self.stopped.set()


def start_scheduler(
    settings: Settings, run: Callable[[], object], every_s: float = CHECK_S
) -> BackupScheduler | None:
    """A started :class:`BackupScheduler` when ``DOSSIER_BACKUP_DIR`` is set, else None."""
    if not settings.get("DOSSIER_BACKUP_DIR").strip():
        return None
    scheduler = BackupScheduler(run, every_s)
    scheduler.start()
    return scheduler


__all__ = ["BackupReport", "BackupScheduler", "BackupService", "settings_document", "start_scheduler"]

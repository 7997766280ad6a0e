"""Backup and restore (备份与恢复): a consistent snapshot while a batch ingests, incremental blobs, keys, checks, schedule."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dossier.app.backup import MANIFEST, BackupInvalid, Destination, start_scheduler, verify
from dossier.app.restore import RestoreRefused, restore_home
from dossier.app.services import Dossier
from foundation.config import load_settings
from index import Principal, SearchRequest
from records import BackupRun, BlobKey, Version, read_key_file, utcnow
from records._blobs import MAGIC
from tests.conftest import ADMIN_PASSWORD, DEV

ADMIN = Principal(username="admin", role="admin")
NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", "DOSSIER_WORKERS": "1"}
BORN_DIGITAL = (".md", ".txt", ".docx", ".eml", ".html", ".csv")
#: Tables a restore must give back row for row.
COMPARED = (
    "documents",
    "versions",
    "pages",
    "customers",
    "users",
    "audit_events",
    "document_customers",
    "entities",
)
QUERIES = ("合同", "报价 服务器", "会议纪要", "HT-2024", "发票")


def _files(n: int) -> list[Path]:
    files = sorted(p for p in DEV.rglob("*") if p.suffix in BORN_DIGITAL and "bad" not in p.parts)
    return files[:n]


def _settings(home: Path, **extra: str):
    return load_settings(
        environ={"DOSSIER_HOME": str(home), **NO_REDIS, **extra}, dotenv=home.parent / "no.env"
    )


def _rows(db: Path, table: str, limit: int | None = None) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return rows if limit is None else rows[:limit]


def _hits(d: Dossier) -> dict[str, list[int]]:
    return {q: [h["id"] for h in d.search(SearchRequest(q, limit=50), ADMIN)["hits"]] for q in QUERIES}


def _restore(tmp_path: Path, dest: Path, name: str, **kwargs):
    settings = _settings(tmp_path / name)
    return settings, restore_home(settings, dest, **kwargs)


def test_round_trip_while_a_batch_ingests(dossier, tmp_path):
    """GIVEN a home ingesting a batch WHEN it is backed up meanwhile and restored into a new home, THEN every
    document, version, page, customer, user and audit event of the snapshot is there, every original reads
    back; and a backup after the batch restores to a home that gives the same searches the same hits."""
    files = _files(16)
    dossier.ingest_paths(files[:6])
    dest = tmp_path / "dest"
    batch = threading.Thread(target=dossier.ingest_paths, args=(files[6:],))
    batch.start()
    reports = [dossier.backups.backup(dest)]
    while batch.is_alive():
        reports.append(dossier.backups.backup(dest))
    batch.join()
    first = reports[0]
    manifest = json.loads((first.path / MANIFEST).read_text(encoding="utf-8"))
    settings, restored = _restore(tmp_path, dest, "mid", snapshot=first.snapshot)
    assert restored.counts["documents"] == manifest["counts"]["documents"] == first.counts["documents"]
    db = settings.home / "dossier.db"
    for table in COMPARED:
        expected = _rows(first.path / "records.sqlite", table)
        assert _rows(db, table, len(expected)) == expected, table
    mid = Dossier.open(settings)
    try:
        with mid.sessions() as session:
            digests = set(session.scalars(select(Version.sha256)))
        assert digests and all(mid.blobs.get(sha) for sha in digests)
    finally:
        mid.close()

    before = set(_pool(dest))
    final = dossier.backups.backup(dest)
    assert final.new_blobs == len(set(_pool(dest)) - before) < final.blobs
    assert set(_pool_of(final.path)) == set(_pool(dest))
    settings, restored = _restore(tmp_path, dest, "final")
    assert restored.snapshot == final.snapshot and not restored.migrated
    after = Dossier.open(settings)
    try:
        for table in COMPARED:
            expected = _rows(final.path / "records.sqlite", table)
            assert _rows(settings.home / "dossier.db", table, len(expected)) == expected, table
        live = _hits(dossier)
        assert any(live.values()) and _hits(after) == live
    finally:
        after.close()


def _pool(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in (dest / "blobs").rglob("*") if p.is_file())


def _pool_of(snapshot: Path) -> list[str]:
    return [e.relpath for e in Destination(snapshot.parent.parent).read_manifest(snapshot).blobs]


def test_a_second_backup_copies_only_the_new_originals(dossier, tmp_path):
    """The pool is shared: a backup after one more upload copies that one original and no other."""
    dossier.ingest_paths(_files(4))
    dest = tmp_path / "dest"
    first = dossier.backups.backup(dest)
    assert first.new_blobs == first.blobs == 4
    pool = _pool(dest)
    again = dossier.backups.backup(dest)
    assert again.new_blobs == 0 and again.blobs == 4 and _pool(dest) == pool
    dossier.ingest_paths(_files(5)[4:])
    third = dossier.backups.backup(dest)
    assert third.new_blobs == 1 and third.blobs == 5 and len(_pool(dest)) == len(pool) + 1
    assert [p.name for p in Destination(dest).complete()] == [first.snapshot, again.snapshot, third.snapshot]
    assert verify(dest)[2] == []


@pytest.fixture
def encrypted(tmp_path):
    key = BlobKey.generate()
    settings = _settings(tmp_path / "enc", DOSSIER_BLOB_KEY=key.encoded())
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    d.ingest_paths(_files(3))
    yield d, key
    d.close()


def test_an_encrypted_home_backs_up_sealed_originals_and_no_key_unless_asked(encrypted, tmp_path):
    """Without --include-keys no file of the backup holds the key and the pool's files are sealed; with it,
    the snapshot has the key file; a restore writes it beside (never over) a file and the originals read back."""
    d, key = encrypted
    plain = d.backups.backup(tmp_path / "plain")
    assert not plain.keys_included
    everything = b"".join(p.read_bytes() for p in (tmp_path / "plain").rglob("*") if p.is_file())
    assert key.encoded().encode() not in everything and key.secret not in everything
    pool = [p for p in (tmp_path / "plain" / "blobs").rglob("*") if p.is_file()]
    assert len(pool) == 3 and all(p.read_bytes().startswith(MAGIC) and p.name.endswith(key.id) for p in pool)
    assert json.loads((plain.path / MANIFEST).read_text())["key_ids"] == [key.id]

    keyed = d.backups.backup(tmp_path / "keyed", include_keys=True)
    assert keyed.keys_included and read_key_file(keyed.path / "keys") == [key]

    settings, report = _restore(tmp_path, tmp_path / "plain", "no-keys")
    assert report.keys_written == [] and report.keys_missing == [key.id]
    keys_to = tmp_path / "restored.keys"
    settings, report = _restore(tmp_path, tmp_path / "keyed", "with-keys", keys_to=keys_to)
    assert report.keys_written == [str(keys_to)] and read_key_file(keys_to) == [key]
    with pytest.raises(RestoreRefused, match="never overwritten"):
        restore_home(_settings(tmp_path / "third"), tmp_path / "keyed", keys_to=keys_to)
    assert not (tmp_path / "third" / "dossier.db").exists()
    back = Dossier.open(settings.with_overrides(DOSSIER_BLOB_KEY_FILE=str(keys_to)))
    try:
        with back.sessions() as session:
            digests = list(session.scalars(select(Version.sha256)))
        assert len(digests) == 3 and all(back.blobs.get(sha) for sha in digests)
    finally:
        back.close()


@pytest.mark.parametrize("damage", ["blob flipped", "records truncated", "manifest cut"])
def test_a_damaged_backup_is_refused_naming_the_file_and_changes_nothing(dossier, tmp_path, damage):
    """A changed byte in an original, a truncated records file or a cut manifest: verify names it, restore
    refuses naming it, and the target home stays empty."""
    dossier.ingest_paths(_files(2))
    dest = tmp_path / "dest"
    report = dossier.backups.backup(dest)
    if damage == "blob flipped":
        victim = sorted(p for p in (dest / "blobs").rglob("*") if p.is_file())[-1]
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    elif damage == "records truncated":
        victim = report.path / "records.sqlite"
        victim.write_bytes(victim.read_bytes()[:4096])
    else:
        victim = report.path / MANIFEST
        victim.write_bytes(victim.read_bytes()[:100])
    shown = str(victim.relative_to(dest)) if damage != "manifest cut" else str(victim)
    if damage != "manifest cut":
        problems = verify(dest)[2]
        assert [p for p, _ in problems] == [shown]
    target = tmp_path / "target"
    with pytest.raises(BackupInvalid) as refused:
        restore_home(_settings(target), dest)
    assert shown in refused.value.message
    if damage != "manifest cut":
        assert "nothing was changed" in refused.value.message
    assert not target.exists() or not any(target.rglob("*"))


def test_a_backup_that_did_not_finish_is_never_taken_for_one(dossier, tmp_path, monkeypatch):
    """A run killed before its manifest (simulated: the manifest write fails) leaves a folder that is not listed,
    verified or restored; its run is failed; the next backup removes it."""
    dossier.ingest_paths(_files(2))
    dest = tmp_path / "dest"
    good = dossier.backups.backup(dest)

    def killed(*_args, **_kw):
        raise KeyboardInterrupt  # what kill -9 leaves behind: everything but the manifest

    monkeypatch.setattr(Destination, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        dossier.backups.backup(dest)
    monkeypatch.undo()
    (partial,) = Destination(dest).unfinished()
    assert (partial / "records.sqlite").exists() and not (partial / MANIFEST).exists()
    assert [p.name for p in Destination(dest).complete()] == [good.snapshot]
    assert verify(dest)[0].name == good.snapshot
    with pytest.raises(BackupInvalid, match="did not finish"):
        restore_home(_settings(tmp_path / "t"), dest, snapshot=partial.name)
    with dossier.sessions() as session:
        assert [r.status for r in session.scalars(select(BackupRun).order_by(BackupRun.id))] == [
            "done",
            "failed",
        ]
    dossier.backups.backup(dest)
    assert Destination(dest).unfinished() == [] and len(Destination(dest).complete()) == 2


def test_restore_refuses_a_home_with_data_and_accepts_a_freshly_initialised_one(dossier, tmp_path):
    """A home holding documents is refused (and left as it was); a home just made by `dossier init` is empty."""
    dossier.ingest_paths(_files(2))
    dest = tmp_path / "dest"
    dossier.backups.backup(dest)
    with pytest.raises(RestoreRefused, match="not empty"):
        restore_home(dossier.settings, dest)
    assert dossier.status()["documents"] == 2
    fresh = _settings(tmp_path / "fresh")
    made = Dossier.open(fresh, require_init=False)
    made.init(admin_password="另一个-admin-pass-1")
    made.close()
    report = restore_home(fresh, dest)
    assert report.counts["documents"] == 2 and report.indexed == 2


def test_a_backup_of_an_older_schema_is_migrated_on_restore(dossier, tmp_path):
    """GIVEN a snapshot whose records are at revision 0009 (before the lifecycle schema) WHEN restored THEN
    they are migrated to this version's schema, every document is there and searchable."""
    from alembic import command
    from sqlalchemy import create_engine

    from records import is_migrated
    from records._db import _alembic_config

    dossier.ingest_paths(_files(3))
    dest = tmp_path / "dest"
    report = dossier.backups.backup(dest)
    copy = report.path / "records.sqlite"
    # A plain engine: with foreign keys on, the batch table rebuilds of the downgrade would cascade deletes.
    engine = create_engine(f"sqlite:///{copy}")
    command.downgrade(_alembic_config(engine), "0009")
    engine.dispose()
    manifest = json.loads((report.path / MANIFEST).read_text(encoding="utf-8"))
    from dossier.app.backup import file_digest

    size, sha = file_digest(copy)
    manifest["files"]["records.sqlite"] = {"size": size, "sha256": sha}
    manifest["schema_revision"] = "0009"
    (report.path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    settings, restored = _restore(tmp_path, dest, "upgraded")
    assert restored.migrated and restored.revision == "0009" and restored.counts["documents"] == 3
    back = Dossier.open(settings)
    try:
        assert is_migrated(back.engine)
        assert _hits(back) == _hits(dossier)
    finally:
        back.close()


def test_scheduled_backups_run_when_due_and_keep_the_last_n(tmp_path):
    """With DOSSIER_BACKUP_DIR: a backup is made when none is recent, not again until EVERY_HOURS have passed,
    and only the newest KEEP snapshots (and the originals they need) stay; a scheduler thread makes one."""
    settings = _settings(
        tmp_path / "home", DOSSIER_BACKUP_DIR=str(tmp_path / "sched"), DOSSIER_BACKUP_KEEP="2"
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    try:
        scheduler = start_scheduler(settings, d.backups.run_scheduled, every_s=0.05)
        assert scheduler is not None
        while not Destination(tmp_path / "sched").complete():
            threading.Event().wait(0.05)
        scheduler.stop()
        scheduler.join(30)
        assert d.backups.run_scheduled() is None  # not due
        for n in range(3):
            d.ingest_paths(_files(n + 1)[n:])
            with d.sessions() as session:
                session.execute(update(BackupRun).values(finished_at=utcnow() - timedelta(hours=25)))
                session.commit()
            assert d.backups.run_scheduled() is not None
        kept = Destination(tmp_path / "sched").complete()
        assert len(kept) == 2 and verify(tmp_path / "sched", kept[0].name)[2] == []
        needed = {e.relpath for k in kept for e in Destination(tmp_path / "sched").read_manifest(k).blobs}
        assert set(_pool(tmp_path / "sched")) == needed and len(needed) == 3
        with d.sessions() as session:
            runs = list(session.scalars(select(BackupRun)))
        assert len(runs) == 4 and all(r.scheduled and r.status == "done" for r in runs)
    finally:
        d.close()


def test_status_shows_the_last_backup_and_warns_when_it_is_old_or_missing(tmp_path):
    """No DOSSIER_BACKUP_DIR and no backup: no warning.  With it and none yet: a warning.  After one: its time,
    no warning.  Older than twice DOSSIER_BACKUP_EVERY_HOURS: a warning again."""
    plain = Dossier.open(_settings(tmp_path / "plain"), require_init=False)
    plain.init(admin_password=ADMIN_PASSWORD)
    assert plain.status()["backup"]["warning"] is None and plain.status()["backup"]["last"] is None
    plain.close()
    settings = _settings(
        tmp_path / "home", DOSSIER_BACKUP_DIR=str(tmp_path / "b"), DOSSIER_BACKUP_EVERY_HOURS="6"
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    try:
        info = d.status()
        assert (
            "no backup has succeeded yet" in info["backup"]["warning"]
            and info["backup"]["warning"] in info["warnings"]
        )
        d.backups.backup(tmp_path / "b")
        info = d.status()["backup"]
        assert info["warning"] is None and info["last"]["status"] == "done" and info["last_age_hours"] == 0
        with d.sessions() as session:
            session.execute(update(BackupRun).values(finished_at=utcnow() - timedelta(hours=13)))
            session.commit()
        assert "13 hours old" in d.status()["backup"]["warning"]
    finally:
        d.close()


@pytest.mark.opensearch
def test_postgresql_round_trip(postgres_server, tmp_path):
    """The scale-out profile: pg_dump of one snapshot, pg_restore into an empty database, the OpenSearch index
    rebuilt; the same rows and the same hits."""
    import uuid

    from sqlalchemy import text

    from tests import _opensearch

    url = _opensearch.cluster_url()
    source_db, target_db = postgres_server.create_database(), postgres_server.create_database()
    aliases = [f"dossier-backup-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    environs = [
        {"DOSSIER_DATABASE_URL": db, "DOSSIER_OPENSEARCH_URL": url, "DOSSIER_OPENSEARCH_INDEX": alias}
        for db, alias in zip((source_db, target_db), aliases, strict=True)
    ]
    source = Dossier.open(_settings(tmp_path / "src", **environs[0]), require_init=False)
    target = None
    try:
        source.init(admin_password=ADMIN_PASSWORD)
        source.ingest_paths(_files(5))
        report = source.backups.backup(tmp_path / "dest")
        assert (report.path / "records.pgdump").is_file() and report.blobs == 5
        settings = _settings(tmp_path / "dst", **environs[1])
        restored = restore_home(settings, tmp_path / "dest")
        assert restored.counts["documents"] == 5 and restored.indexed == 5
        target = Dossier.open(settings)
        for table in ("documents", "versions", "pages", "customers", "users"):
            sql = text(f"SELECT * FROM {table} ORDER BY 1")
            with source.engine.connect() as a, target.engine.connect() as b:
                assert list(a.execute(sql)) == list(b.execute(sql)), table
        assert _hits(target) == _hits(source)
    finally:
        source.close()
        if target is not None:
            target.close()
        for alias in aliases:
            _opensearch.drop(url, alias)
        postgres_server.drop_database(source_db)
        postgres_server.drop_database(target_db)


def test_a_restore_into_another_profile_is_refused(dossier, tmp_path):
    """A SQLite snapshot is not loaded into PostgreSQL settings (and the reverse): refused before anything changes."""
    dossier.ingest_paths(_files(1))
    dossier.backups.backup(tmp_path / "dest")
    manifest_path = Destination(tmp_path / "dest").complete()[0] / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["records"] = "records.pgdump"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(RestoreRefused, match="profile"):
        restore_home(_settings(tmp_path / "t"), tmp_path / "dest")
    assert not (tmp_path / "t" / "dossier.db").exists()
    shutil.rmtree(tmp_path / "dest")

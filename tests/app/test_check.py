"""The integrity check (``Dossier.integrity``, issue 15): what it finds, what ``repair`` fixes, on each backend.

Real files of the dev corpus go through the real intake (inline, no Redis); damage is done the
way it happens — bytes changed on disk, files removed, index entries lost or left behind, a
trigger dropped — and the check must find each, and repair what the records allow.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from dossier.app._check import IntegrityService
from index import IndexDocument, SearchRequest
from records import Document, ExportJob, Version, VersionPage, utcnow
from tests.conftest import ADMIN_PASSWORD, DEV, TANTIVY, audit_events, backend_home

FILES = [
    DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt",
    DEV / "contracts" / "产品购销合同_昌隆精密_HT-2023-1213.md",
]
HOUR_AGO = time.time() - 2 * 3600


def _age(path: Path) -> Path:
    """Make ``path`` older than the check's grace period."""
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def _env(root: Path, extra: dict[str, str]) -> dict[str, str]:
    return {"DOSSIER_HOME": str(root / "home"), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra}


def _open_home(root: Path, extra: dict[str, str]) -> dict[str, Any]:
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    d = Dossier.open(load_settings(environ=_env(root, extra), dotenv=root / "no.env"), require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    summary = d.ingest_paths(FILES)
    assert summary["ingested"] == 2, summary
    return {"dossier": d, "ids": sorted(doc["id"] for doc in summary["documents"])}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    """One embedded-index home filled by intake, copied for each test that needs one (intake is the slow part)."""
    root = tmp_path_factory.mktemp("check-template")
    built = _open_home(root, {})
    built["dossier"].close()
    return root, built["ids"]


def _copied_home(
    template: tuple[Path, list[int]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    source, ids = template
    root = tmp_path_factory.mktemp("check-sqlite")
    shutil.copytree(source / "home", root / "home")
    return {
        "dossier": Dossier.open(load_settings(environ=_env(root, {}), dotenv=root / "no.env")),
        "ids": ids,
    }


@pytest.fixture(params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)])
def home(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A data home with two documents, on each backend (OpenSearch when a node is configured)."""
    if request.param == "sqlite":
        yield from _sqlite_home(request.getfixturevalue("template"), tmp_path_factory)
        return
    with backend_home(request.param, "check", tmp_path_factory, _open_home) as built:
        yield built


def _sqlite_home(
    template: tuple[Path, list[int]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    built = _copied_home(template, tmp_path_factory)
    try:
        yield built
    finally:
        built["dossier"].close()


@pytest.fixture
def sqlite_home(template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A data home with two documents on the embedded index (for what does not depend on the backend)."""
    yield from _sqlite_home(template, tmp_path_factory)


def _kinds(report: Any) -> list[tuple[str, str]]:
    return [(f.kind, f.subject) for f in report.findings]


def _digest(d: Any, doc_id: int) -> str:
    with d.sessions() as session:
        return session.scalars(select(Version.sha256).where(Version.document_id == doc_id)).one()


def test_the_check_is_a_service_of_the_application(sqlite_home):
    """`Dossier.integrity` is the integrity service, made over the home's resources."""
    assert type(sqlite_home["dossier"].integrity) is IntegrityService


def test_a_clean_home_passes(home):
    """GIVEN a home just filled by intake, WHEN it is checked, THEN nothing is found and everything was looked at."""
    report = home["dossier"].integrity.check()
    assert report.ok and report.findings == [], _kinds(report)
    assert report.checked["blobs"] == 2 and report.checked["versions"] == 2
    assert report.checked["index_entries"] == 2 and report.checked["documents_indexed"] == 2


def test_a_damaged_original_is_found_and_not_repairable(sqlite_home):
    """Changed bytes in a stored original: found, named with its document and file, and left (a backup restores it)."""
    d, (first, _second) = sqlite_home["dossier"], sqlite_home["ids"]
    digest = _digest(d, first)
    path = d.blobs.path(digest)
    path.write_bytes(path.read_bytes() + b"tampered")
    report = d.integrity.check(repair=True)
    (finding,) = report.findings
    assert (finding.kind, finding.subject) == ("blob_corrupt", digest)
    assert not finding.repairable and not finding.repaired and not report.ok
    assert str(first) in finding.message.render("en") and FILES[0].name in finding.message.render("en")
    assert "backup" in finding.message.render("en") and "备份" in finding.message.render("zh")


def test_a_damaged_encrypted_original_is_found(tmp_path_factory):
    """With encryption at rest, an original whose sealed bytes were altered fails authentication: found.
    Opened without the key, its originals are unreadable (configure the key), not damaged."""
    from records import BlobKey

    key = {"DOSSIER_BLOB_KEY": BlobKey.generate().encoded()}
    with backend_home(
        "sqlite", "check-sealed", tmp_path_factory, lambda r, e: _open_home(r, {**e, **key})
    ) as h:
        d, (first, _second) = h["dossier"], h["ids"]
        assert d.integrity.check().ok
        path = d.blobs.path(_digest(d, first))
        data = bytearray(path.read_bytes())
        data[-20] ^= 0xFF
        path.write_bytes(bytes(data))
        report = d.integrity.check()
        assert _kinds(report) == [("blob_corrupt", _digest(d, first))]
        from dossier.app._check import IntegrityService
        from dossier.app.resources import HomeResources

        keyless = HomeResources.connect(d.settings.with_overrides(DOSSIER_BLOB_KEY=""))
        try:
            without_key = IntegrityService(keyless, reindex=d.reindex).check()
        finally:
            keyless.close()
        # Without the key nothing tells damage from a missing key: both are unreadable, the remedy is the key.
        assert [f.kind for f in without_key.findings] == ["blob_unreadable", "blob_unreadable"]
        unreadable = without_key.findings[0]
        assert "Configure its key" in unreadable.message.render("en") and not unreadable.repairable


def test_a_lost_original_is_a_document_without_its_original(sqlite_home):
    """A removed blob: the document's version is reported without its original, not repairable."""
    d, (first, _second) = sqlite_home["dossier"], sqlite_home["ids"]
    d.blobs.path(_digest(d, first)).unlink()
    report = d.integrity.check(repair=True)
    assert _kinds(report) == [("original_missing", f"document {first} v1")]
    assert not report.findings[0].repairable and not report.ok
    assert "restore the file from a backup" in report.findings[0].message.render("en")


def test_a_lost_index_entry_is_found_and_reindexed(home):
    """GIVEN an entry gone from the index, THEN the check finds it, repair indexes it again and a second check is clean."""
    d, (first, _second) = home["dossier"], home["ids"]
    d.backend.delete([first])
    report = d.integrity.check()
    assert _kinds(report) == [("index_missing", f"document {first}")] and not report.ok
    repaired = d.integrity.check(repair=True)
    assert [f.repaired for f in repaired.findings] == [True] and repaired.ok
    assert d.integrity.check().findings == []
    d.backend.settle()
    hits = d.search(SearchRequest("金桥电气"), d.accounts.principal_for("admin"))["hits"]
    assert first in [h["id"] for h in hits]


def test_a_stray_index_entry_is_found_and_deleted(home):
    """An entry no document calls for (a fake one): found, deleted by repair."""
    d = home["dossier"]
    d.backend.index([IndexDocument(id=987654, title="幽灵文档", text="不存在")])
    report = d.integrity.check(repair=True)
    assert _kinds(report) == [("index_extra", "document 987654")]
    assert report.findings[0].repaired and report.ok
    assert 987654 not in set(d.backend.entry_ids())
    assert d.integrity.check().ok


def test_a_trashed_document_left_in_the_index_is_extra(sqlite_home):
    """A document in the trash must not be searchable: an entry left for it is extra, and repair removes it."""
    d, (first, _second) = sqlite_home["dossier"], sqlite_home["ids"]
    with d.sessions() as session:
        session.get(
            Document, first
        ).trashed_at = utcnow()  # the trash's own code removes the entry; here it stayed
        session.commit()
    report = d.integrity.check(repair=True)
    assert _kinds(report) == [("index_extra", f"document {first}")] and report.ok
    assert first not in set(d.backend.entry_ids())


def test_documents_on_their_way_are_neither_expected_nor_extra(sqlite_home):
    """A queued document is not yet indexed (not missing), nor wrong when a reindex already put it in (not extra)."""
    d, (first, second) = sqlite_home["dossier"], sqlite_home["ids"]
    with d.sessions() as session:
        session.get(Document, first).status = "queued"
        session.get(Document, second).status = "processing"
        session.commit()
    d.backend.delete([second])
    assert d.integrity.check().findings == []


def test_superseded_versions_with_text_are_expected_in_the_index(sqlite_home):
    """GIVEN a document whose first version was superseded and kept its text, THEN the index must hold an
    entry of id minus that version's id: missing is found; held, it is not extra; held without text, it is."""
    d, (first, _second) = sqlite_home["dossier"], sqlite_home["ids"]
    with d.sessions() as session:
        doc = session.get(Document, first)
        old = doc.versions[0]
        session.add(Version(document_id=first, number=2, sha256=old.sha256, filename="v2.txt", size=old.size))
        session.add(VersionPage(version_id=old.id, number=1, text="旧版本的文字"))
        session.commit()
        old_id = old.id
    report = d.integrity.check()
    assert _kinds(report) == [("index_missing", f"version entry {-old_id} (document {first})")]
    entry = IndexDocument(id=-old_id, title="旧版", text="旧版本的文字", version=1, document_id=first)
    d.backend.index([entry])
    assert d.integrity.check().findings == []
    with d.sessions() as session:
        session.execute(text("DELETE FROM version_pages"))
        session.commit()
    assert _kinds(d.integrity.check()) == [("index_extra", f"version entry {-old_id}")]


def test_orphans_and_leftovers_are_found_and_removed_but_young_files_are_spared(sqlite_home):
    """GIVEN an original no version names, a page image of it, an export file no finished export names and a
    temporary file of an interrupted write, all old, THEN each is found and repair removes it; the same
    files younger than the grace period (an intake or an export still writing) are left alone."""
    d = sqlite_home["dossier"]
    home = d.settings.home
    orphan = d.blobs.put(b"an original whose document was never committed")
    young = d.blobs.put(b"an original an intake is storing right now")
    _age(d.blobs.path(orphan))
    d.blobs.put_cached(f"page-{orphan}-1-1200-0.png", b"png")
    image = _age(d.blobs.cached_path(f"page-{orphan}-1-1200-0.png"))
    kept_image = f"page-{_digest(d, sqlite_home['ids'][0])}-1-1200-0.png"
    d.blobs.put_cached(kept_image, b"png")
    _age(d.blobs.cached_path(kept_image))
    exports = home / "exports"
    exports.mkdir(exist_ok=True)
    stray = exports / "41-0123456789abcdef.csv"
    stray.write_text("a,b\n")
    _age(stray)
    done = exports / "42-fedcba9876543210.csv"
    done.write_text("c,d\n")
    _age(done)
    with d.sessions() as session:
        session.add(ExportJob(username="admin", format="csv", status="done", path="exports/" + done.name))
        session.commit()
    leftover = d.blobs.path(orphan).parent / ".tmp-abcd1234"
    leftover.write_bytes(b"half a file")
    _age(leftover)
    report = d.integrity.check()
    assert sorted(_kinds(report)) == sorted(
        [
            ("orphan_blob", orphan),
            ("orphan_page_image", image.name),
            ("orphan_export", str(stray)),
            ("leftover_file", str(leftover)),
        ]
    )
    assert all(f.repairable for f in report.findings) and not report.ok
    repaired = d.integrity.check(repair=True)
    assert repaired.ok and all(f.repaired for f in repaired.findings)
    assert not d.blobs.path(orphan).exists() and not image.exists() and not stray.exists()
    assert not leftover.exists()
    assert d.blobs.exists(young) and done.exists() and d.blobs.cached_path(kept_image).exists()
    assert d.integrity.check().findings == []
    (event,) = audit_events(d, "integrity_repair")
    assert event.detail["repaired"] == {
        "orphan_blob": 1,
        "orphan_page_image": 1,
        "orphan_export": 1,
        "leftover_file": 1,
    }


def test_storing_an_original_again_makes_it_young(sqlite_home):
    """An intake bringing bytes an old orphan holds refreshes it, so a repair running meanwhile spares it."""
    d = sqlite_home["dossier"]
    digest = d.blobs.put(b"bytes stored before, then brought in again")
    _age(d.blobs.path(digest))
    assert [f.kind for f in d.integrity.check().findings] == ["orphan_blob"]
    d.blobs.put(b"bytes stored before, then brought in again")
    assert d.integrity.check(repair=True).findings == [] and d.blobs.exists(digest)


def test_a_dropped_audit_trigger_is_found_and_created_again(sqlite_home):
    """GIVEN the audit trail's append-only trigger was dropped, THEN the check finds it, repair creates it again
    and the trail refuses changes once more."""
    d = sqlite_home["dossier"]
    with d.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
    report = d.integrity.check()
    assert _kinds(report) == [("audit_trigger", "audit_events_no_delete")] and not report.ok
    repaired = d.integrity.check(repair=True)
    assert repaired.ok and repaired.findings[0].repaired
    with pytest.raises(Exception, match="append-only"), d.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events")
    assert d.integrity.check().findings == []


@pytest.mark.opensearch
def test_on_postgresql_with_opensearch_triggers_and_index_are_checked_and_repaired(
    postgres_url, tmp_path_factory
):
    """The scale-out profile: PostgreSQL records (row and TRUNCATE triggers) and OpenSearch. A dropped trigger
    and a lost entry are both found, both repaired, and the next check is clean."""
    extra = {"DOSSIER_DATABASE_URL": postgres_url}
    with backend_home(
        "opensearch", "check-pg", tmp_path_factory, lambda r, e: _open_home(r, {**e, **extra})
    ) as h:
        d, (first, _second) = h["dossier"], h["ids"]
        assert d.integrity.check().findings == []
        with d.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER audit_events_no_truncate ON audit_events"))
        d.backend.delete([first])
        report = d.integrity.check(repair=True)
        assert sorted(_kinds(report)) == [
            ("audit_trigger", "audit_events_no_truncate"),
            ("index_missing", f"document {first}"),
        ]
        assert report.ok and all(f.repaired for f in report.findings)
        assert d.integrity.check().findings == []

"""Ingest, OCR and the queue with encryption at rest on: the parsers get plaintext, the disk holds none."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from foundation.messages import load_stored
from index import SearchRequest
from pipeline.intake import Intake, IntakeOptions, Source
from records import BlobKey, BlobUnreadable, write_key_file
from tests.conftest import ADMIN_PASSWORD, DEV

CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
SCAN = DEV / "scans" / "IMG_20230718_152640.jpg"
TEXTS = sorted((DEV / "contracts").glob("*.txt")) + sorted((DEV / "contracts").glob("*.md"))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """tempfile's folder for this test (inherited by the forked parser processes), to count plaintext copies."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _settings(tmp_path: Path, **extra: str):
    from foundation.config import load_settings

    key_file = tmp_path / "keys" / "blob.keys"
    if not key_file.exists():
        write_key_file(key_file, BlobKey.generate())
    return load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_BLOB_KEY_FILE": str(key_file),
            **extra,
        },
        dotenv=tmp_path / "no.env",
    )


@pytest.fixture
def encrypted(tmp_path, private_tmp):
    """An initialised Dossier whose blob key comes from a key file (no Redis: work is done inline)."""
    from dossier.app.services import Dossier

    d = Dossier.open(_settings(tmp_path), require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    assert d.blobs.encrypted
    yield d
    d.engine.dispose()


def _plaintext_copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("dossier-plain-*"))


def _assert_sealed_on_disk(d, original: bytes, sha256: str) -> None:
    raw = d.blobs.path(sha256).read_bytes()
    assert d.blobs.state(d.blobs.path(sha256)) == d.blobs.keys.current.id
    assert raw[:4] != original[:4] and original[1000:1064] not in raw


def test_a_pdf_and_a_scan_ingest_parse_and_ocr_with_encryption_on(encrypted, admin, private_tmp):
    """GIVEN a blob key WHEN a text PDF and a scanned JPEG are ingested (parse + OCR inline)
    THEN both are indexed with their text, the stored files are sealed, the download is the exact
    original, and no plaintext copy is left in the temporary folder."""
    d = encrypted
    summary = d.ingest_paths([CONTRACT, SCAN])
    assert summary["ingested"] == 2 and summary["failed"] == []
    by_name = {Path(doc["file"]).name: doc["id"] for doc in summary["documents"]}
    contract, scan = d.show(by_name[CONTRACT.name], admin), d.show(by_name[SCAN.name], admin)
    assert contract["status"] == "indexed" and "宸宇" in contract["text"] and len(contract["pages"]) >= 2
    assert scan["status"] == "indexed" and all(p["ocr"] and p["text"] for p in scan["pages"])
    for path, shown in ((CONTRACT, contract), (SCAN, scan)):
        _assert_sealed_on_disk(d, path.read_bytes(), shown["sha256"])
        assert d.open_original(shown["id"], admin)[2] == path.read_bytes()
    assert [h["id"] for h in d.search(SearchRequest(query="宸宇"), admin)["hits"]] == [contract["id"]]
    assert _plaintext_copies(private_tmp) == []


def test_a_batch_larger_than_the_decryption_window_is_all_processed(
    encrypted, admin, private_tmp, tmp_path, monkeypatch
):
    """Encrypted originals are decrypted a few at a time (4 per worker: 9 files = 3 rounds of the one pool);
    every file of the batch ends indexed and no plaintext copy outlives its round."""
    from pipeline.pool import ParsePool

    rounds: list[int] = []
    real_imap = ParsePool.imap

    def counting_imap(self, tasks):
        tasks = list(tasks)
        rounds.append(len(tasks))
        assert len(_plaintext_copies(private_tmp)) == len(tasks)  # only this round's plaintexts exist
        yield from real_imap(self, tasks)

    monkeypatch.setattr(ParsePool, "imap", counting_imap)
    files = []
    for i in range(9):
        files.append(tmp_path / f"拜访记录_{i}.txt")
        files[-1].write_text(f"拜访记录 第{i}号 客户：明远科技 编号 VISIT-{i:04d}\n", encoding="utf-8")
    summary = encrypted.ingest_paths(files, ocr=False)
    assert summary["ingested"] == 9 and summary["failed"] == []
    assert rounds == [4, 4, 1]
    assert {encrypted.show(doc["id"], admin)["status"] for doc in summary["documents"]} == {"indexed"}
    assert _plaintext_copies(private_tmp) == []


def test_an_original_that_cannot_be_decrypted_fails_its_document_not_the_batch(encrypted, admin, private_tmp):
    """GIVEN two taken files, one of whose stored originals is then altered WHEN processed THEN that document
    fails with the decryption reason, the other is indexed, and nothing is served for the bad one."""
    d = encrypted
    intake = Intake(d.sessions, d.blobs, d.backend, d.limits, 1)
    batch = intake.new_batch("cli", "system", total=2)
    good, bad = (
        intake.take(Source(str(p), p.name, path=p), IntakeOptions(), batch) for p in (TEXTS[0], TEXTS[1])
    )
    digest = d.show(bad.document_id, admin)["sha256"]
    raw = bytearray(d.blobs.path(digest).read_bytes())
    raw[-5] ^= 0xFF
    d.blobs.path(digest).write_bytes(bytes(raw))
    intake.process_here([good.document_id, bad.document_id], None)
    assert d.show(good.document_id, admin)["status"] == "indexed"
    failed = d.show(bad.document_id, admin)
    assert failed["status"] == "failed" and "fails authentication" in _said(failed["error"])
    with pytest.raises(BlobUnreadable):
        d.open_original(bad.document_id, admin)
    assert _plaintext_copies(private_tmp) == []


def test_ocr_of_an_original_that_cannot_be_decrypted_fails_its_pages_with_the_reason(encrypted, admin):
    """A scan whose original was sealed under a key that is no longer configured: `dossier ocr` reports
    each waiting page with the reason instead of crashing the run."""
    from dossier.app.services import Dossier

    d = encrypted
    doc_id = d.ingest_paths([SCAN], ocr=False)["documents"][0]["id"]
    assert d.show(doc_id, admin)["status"] == "awaiting_ocr"
    other_key = d.settings.home.parent / "other.keys"
    write_key_file(other_key, BlobKey.generate())
    stranger = Dossier.open(d.settings.with_overrides(DOSSIER_BLOB_KEY_FILE=str(other_key)))
    try:
        summary = stranger.ocr([doc_id])
        assert summary["failed"] and all("is not configured" in _said(f["error"]) for f in summary["failed"])
        shown = stranger.show(doc_id, admin)
        assert shown["status"] == "awaiting_ocr" and not any(p["ocr"] for p in shown["pages"])
    finally:
        stranger.engine.dispose()


def test_a_malformed_key_stops_the_dossier_at_start(tmp_path):
    """A bad DOSSIER_BLOB_KEY is a ConfigError when the data home is opened, before anything is written."""
    from dossier.app.services import Dossier

    settings = _settings(tmp_path).with_overrides(DOSSIER_BLOB_KEY_FILE="", DOSSIER_BLOB_KEY="c2hvcnQ=")
    with pytest.raises(ConfigError, match="DOSSIER_BLOB_KEY"):
        Dossier.open(settings, require_init=False)
    assert not (tmp_path / "home").exists()


def test_the_queue_workers_parse_and_ocr_encrypted_originals(tmp_path, redis_url, admin, private_tmp):
    """With Redis, real worker processes (given the key file through the settings) parse and OCR sealed originals."""
    from dossier.app.services import Dossier

    d = Dossier.open(_settings(tmp_path, DOSSIER_REDIS_URL=redis_url), require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    try:
        summary = d.ingest_paths([CONTRACT, SCAN], workers=1)
        assert summary["mode"] == "queue" and summary["failed"] == []
        statuses = {Path(doc["file"]).name: doc["status"] for doc in summary["documents"]}
        assert statuses == {CONTRACT.name: "indexed", SCAN.name: "indexed"}
        scan = d.show(
            next(doc["id"] for doc in summary["documents"] if doc["file"].endswith(SCAN.name)), admin
        )
        assert all(p["ocr"] and p["text"] for p in scan["pages"])
        _assert_sealed_on_disk(d, SCAN.read_bytes(), scan["sha256"])
    finally:
        d.engine.dispose()


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")

"""Downloads from an encrypted blob store: the exact original, or a visible error — never partial bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from records import BlobKey
from tests.webui.conftest import CORPUS, _login
from webui import create_app

PASSWORD = "encrypted-Passw0rd"
PDF = CORPUS / "contracts" / "产品购销合同_Pacific Rim_HT-2024-0315.pdf"
TEXT = CORPUS / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A data home with DOSSIER_BLOB_KEY set and two documents ingested."""
    if not CORPUS.is_dir():
        pytest.skip(f"test corpus not found at {CORPUS}")
    root = tmp_path_factory.mktemp("encrypted-home")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(root),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_BLOB_KEY": BlobKey.generate().encoded(),
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    summary = d.ingest_paths([str(PDF), str(TEXT)], ocr=False)
    ids = {Path(doc["file"]).name: doc["id"] for doc in summary["documents"]}
    app = create_app(settings, test_config={"TESTING": True})
    return {"dossier": d, "app": app, "ids": ids}


@pytest.fixture()
def admin_client(home):
    client = home["app"].test_client()
    assert _login(client, password=PASSWORD).status_code == 302
    return client


@pytest.fixture()
def tampered(home):
    """Function: alter one byte of a document's stored original for the test, restoring it afterwards."""
    saved: list[tuple[Path, bytes]] = []

    def alter(doc_id: int, at: int = -3) -> bytes:
        d = home["dossier"]
        path = d.blobs.path(d.show(doc_id, _system())["sha256"])
        raw = path.read_bytes()
        saved.append((path, raw))
        changed = bytearray(raw)
        changed[at] ^= 0x20
        path.write_bytes(bytes(changed))
        return raw

    yield alter
    for path, raw in saved:
        path.write_bytes(raw)


def _system():
    from index import Principal

    return Principal.system()


def test_the_download_of_a_sealed_original_is_the_exact_file(admin_client, home):
    """Encryption is invisible to users: the download is byte for byte what was ingested."""
    for path in (PDF, TEXT):
        doc_id = home["ids"][path.name]
        stored = home["dossier"].blobs.path(home["dossier"].show(doc_id, _system())["sha256"]).read_bytes()
        assert path.read_bytes()[:256] not in stored  # sealed on disk
        r = admin_client.get(f"/documents/{doc_id}/download")
        assert r.status_code == 200 and r.data == path.read_bytes()
        assert r.headers["Content-Disposition"].startswith("attachment")


def test_a_tampered_original_is_refused_with_a_visible_500_and_no_bytes(admin_client, home, tampered, caplog):
    """GIVEN an altered stored original THEN the download answers 500 with the reason on the error page,
    carries none of the file, and the log names the document."""
    doc_id = home["ids"][TEXT.name]
    tampered(doc_id)
    with caplog.at_level("ERROR"):
        r = admin_client.get(f"/documents/{doc_id}/download")
    assert any(f"download of document {doc_id} refused" in rec.getMessage() for rec in caplog.records)
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "解密校验失败" in body and "请从备份恢复" in body and "restore it from a backup" not in body
    english = admin_client.get(f"/documents/{doc_id}/download?lang=en")
    assert english.status_code == 500 and "restore it from a backup" in english.get_data(as_text=True)
    assert "解密校验失败" not in english.get_data(as_text=True)
    assert "Content-Disposition" not in r.headers
    assert TEXT.read_text(encoding="utf-8")[:40] not in body
    assert "金桥" not in body


def test_a_tampered_original_is_never_served_through_open_original(home, tampered):
    """The same refusal for every caller of Dossier.open_original (CLI, exports, API)."""
    from records import BlobUnreadable

    doc_id = home["ids"][PDF.name]
    tampered(doc_id, at=200)
    with pytest.raises(BlobUnreadable) as caught:
        home["dossier"].open_original(doc_id, _system())
    assert caught.value.reason == "auth"


def test_a_blob_under_an_unconfigured_key_says_which_key_to_add(home):
    """A web process started without the key that sealed a file answers 500 naming that key id."""
    d = home["dossier"]
    doc_id = home["ids"][TEXT.name]
    other = create_app(
        d.settings.with_overrides(DOSSIER_BLOB_KEY=BlobKey.generate().encoded()),
        test_config={"TESTING": True},
    )
    client = other.test_client()
    assert _login(client, password=PASSWORD).status_code == 302
    r = client.get(f"/documents/{doc_id}/download")
    assert r.status_code == 500 and d.blobs.keys.current.id in r.get_data(as_text=True)
    assert "DOSSIER_BLOB_KEY_OLD" in r.get_data(as_text=True)


def test_thumbnails_are_sealed_in_the_cache_and_drawn_again_when_damaged(admin_client, home):
    """A thumbnail is cached sealed like page images; a damaged cached one is drawn again, never an error."""
    doc_id = home["ids"][PDF.name]
    first = admin_client.get(f"/documents/{doc_id}/thumbnail.png")
    assert first.status_code == 200 and first.data.startswith(b"\x89PNG")
    blobs = home["dossier"].blobs
    cached = blobs.cached_path(f"thumb-{first.headers['ETag'].strip(chr(34))}.png")
    raw = cached.read_bytes()
    assert not raw.startswith(b"\x89PNG")  # sealed on disk
    cached.write_bytes(raw[:-3] + bytes(b ^ 0x20 for b in raw[-3:]))
    again = admin_client.get(f"/documents/{doc_id}/thumbnail.png")
    assert again.status_code == 200 and again.data == first.data
    assert cached.read_bytes() != raw  # replaced by a fresh sealed copy

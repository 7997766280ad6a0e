"""The content-addressed blob store."""

from __future__ import annotations

import hashlib

import pytest

from records import BlobCorrupt, BlobMissing, BlobStore


def test_put_get_roundtrip_and_path_by_digest(tmp_path):
    """A blob is stored under its sha256 and read back byte for byte."""
    store = BlobStore(tmp_path)
    data = "合同金额 ¥120,000.00".encode()
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.path(digest).relative_to(tmp_path).parts[:2] == (digest[:2], digest[2:4])
    assert store.get(digest) == data


def test_same_content_is_stored_once(tmp_path):
    """Putting the same bytes twice leaves one file and no temp files behind."""
    store = BlobStore(tmp_path)
    assert store.put(b"x") == store.put(b"x")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1


def test_tampered_blob_is_refused(tmp_path):
    """A blob whose bytes changed on disk fails its checksum instead of being served."""
    store = BlobStore(tmp_path)
    digest = store.put(b"original")
    store.path(digest).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupt):
        store.get(digest)


def test_missing_blob_is_reported(tmp_path):
    """Reading a blob that is gone raises BlobMissing with a message saying what to do."""
    store = BlobStore(tmp_path)
    with pytest.raises(BlobMissing, match="备份"):
        store.get("0" * 64)


def test_path_refuses_non_digests(tmp_path):
    """Only a 64-hex digest names a blob: no path tricks."""
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path("../../etc/passwd")

"""Encryption at rest of the blob store: sealed originals and cached files, key rings, rotation."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from foundation.errors import ConfigError
from records import (
    OVERHEAD,
    BlobCorrupt,
    BlobKey,
    BlobMissing,
    BlobStore,
    BlobUnreadable,
    KeyRing,
    RecordsError,
    read_key_file,
    write_key_file,
)
from tests.conftest import ROOT

TEXT = ("甲方：杭州明远科技有限公司  合同金额 ¥120,000.00（壹拾贰万元整）\n" * 200).encode()
KEY_1 = BlobKey(bytes(range(32)))
KEY_2 = BlobKey(bytes(range(100, 132)))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """tempfile's folder for this test only, so leftovers of plaintext copies can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def sealed(root: Path, *keys: BlobKey) -> BlobStore:
    return BlobStore(root, KeyRing(keys[0], keys[1:]) if keys else None)


# -- the format --------------------------------------------------------------------------------


def test_sealed_round_trip_and_the_file_holds_no_plaintext(tmp_path):
    """GIVEN a key WHEN a blob is put THEN it reads back exactly, is named by its plaintext sha256,
    and the file on disk contains none of the plaintext."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    assert digest == hashlib.sha256(TEXT).hexdigest()
    raw = store.path(digest).read_bytes()
    assert len(raw) == len(TEXT) + OVERHEAD
    assert "明远".encode() not in raw and b"120,000" not in raw and TEXT[:64] not in raw
    assert store.get(digest) == TEXT
    assert store.size(digest) == len(TEXT)
    assert store.state(store.path(digest)) == KEY_1.id
    assert stat.S_IMODE(store.path(digest).stat().st_mode) == 0o600


def test_the_file_is_standard_aes_256_gcm_with_header_and_name_as_associated_data(tmp_path):
    """The documented layout: magic | version | key id | nonce | ciphertext+tag, AAD = header + identity."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    raw = store.path(digest).read_bytes()
    assert raw[:8] == b"\x89DSB\r\n\x1a\n"
    assert raw[8] == 1 and raw[9:17] == KEY_1.id_bytes
    plain = AESGCM(KEY_1.secret).decrypt(raw[17:29], raw[29:], raw[:17] + b"original:" + digest.encode())
    assert plain == TEXT


def test_two_puts_of_different_blobs_use_different_nonces(tmp_path):
    """Every file gets a fresh random nonce (nonce reuse would break GCM)."""
    store = sealed(tmp_path, KEY_1)
    nonces = {store.path(store.put(TEXT + bytes([i]))).read_bytes()[17:29] for i in range(20)}
    assert len(nonces) == 20


def test_without_a_key_the_file_is_the_plain_bytes_exactly(tmp_path):
    """No key: the on-disk format is unchanged — the file is the original, byte for byte."""
    store = BlobStore(tmp_path)
    digest = store.put(TEXT)
    assert store.path(digest).read_bytes() == TEXT
    assert store.get(digest) == TEXT and store.state(store.path(digest)) == "plaintext"
    assert not store.encrypted


# -- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 8, 9, 16, 17, 28, 29, 500, -17, -1], ids=lambda o: f"byte{o}")
def test_one_flipped_byte_anywhere_is_refused(tmp_path, private_tmp, offset):
    """Magic, version, key id, nonce, ciphertext or tag altered: get, verify and plaintext_file all refuse
    (BlobUnreadable or, for a wrecked magic, BlobCorrupt), and no plaintext copy is left behind."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    raw = bytearray(store.path(digest).read_bytes())
    raw[offset] ^= 0x01
    store.path(digest).write_bytes(bytes(raw))
    with pytest.raises(BlobCorrupt):
        store.get(digest)
    with pytest.raises(BlobCorrupt):
        store.verify(digest)
    with pytest.raises(BlobCorrupt), store.plaintext_file(digest):
        pytest.fail("the block must not run for a tampered blob")
    assert list(private_tmp.iterdir()) == []


def test_altered_ciphertext_says_it_fails_authentication_and_what_to_do(tmp_path):
    """The message names the blob, says it is not served and says to restore from a backup."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    raw = bytearray(store.path(digest).read_bytes())
    raw[1000] ^= 0x80
    store.path(digest).write_bytes(bytes(raw))
    with pytest.raises(BlobUnreadable) as caught:
        store.get(digest)
    assert caught.value.reason == "auth" and caught.value.sha256 == digest
    assert "备份" in caught.value.message and "restore it from a backup" in caught.value.message
    assert digest[:12] in caught.value.message


@pytest.mark.parametrize("keep", [0, 5, 20, 40, -1, -16, -17], ids=lambda k: f"keep{k}")
def test_a_truncated_blob_is_refused(tmp_path, private_tmp, keep):
    """Any truncation — inside the header, the nonce, the body or the tag — is refused, never served."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    raw = store.path(digest).read_bytes()
    store.path(digest).write_bytes(raw[:keep])
    with pytest.raises(BlobCorrupt):
        store.get(digest)
    with pytest.raises(BlobCorrupt), store.plaintext_file(digest):
        pytest.fail("the block must not run for a truncated blob")
    assert list(private_tmp.iterdir()) == []


def test_two_blobs_swapped_on_disk_are_both_refused(tmp_path):
    """Each file is authenticated with its own name: moving one into another's place fails."""
    store = sealed(tmp_path, KEY_1)
    a, b = store.put(TEXT), store.put(b"another contract")
    raw_a, raw_b = store.path(a).read_bytes(), store.path(b).read_bytes()
    store.path(a).write_bytes(raw_b)
    store.path(b).write_bytes(raw_a)
    for digest in (a, b):
        with pytest.raises(BlobUnreadable) as caught:
            store.get(digest)
        assert caught.value.reason == "auth"


def test_a_cached_file_put_in_an_originals_place_is_refused(tmp_path):
    """A sealed cache entry (a different identity) cannot stand in for an original."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    store.put_cached("page-x-1.png", TEXT)
    store.path(digest).write_bytes(store.cached_path("page-x-1.png").read_bytes())
    with pytest.raises(BlobUnreadable):
        store.get(digest)


def test_a_wrong_key_or_no_key_is_refused_with_a_message_saying_which_key(tmp_path):
    """Read with another key: ``unknown_key`` naming the key id to add; with no key at all: ``no_key``."""
    digest = sealed(tmp_path, KEY_1).put(TEXT)
    with pytest.raises(BlobUnreadable) as wrong:
        sealed(tmp_path, KEY_2).get(digest)
    assert wrong.value.reason == "unknown_key" and KEY_1.id in wrong.value.message
    assert "DOSSIER_BLOB_KEY_OLD" in wrong.value.message
    with pytest.raises(BlobUnreadable) as none:
        BlobStore(tmp_path).get(digest)
    assert none.value.reason == "no_key" and "DOSSIER_BLOB_KEY" in none.value.message


def test_an_unknown_format_version_is_refused(tmp_path):
    """A header from a newer format is reported as such, not decrypted with a guess."""
    store = sealed(tmp_path, KEY_1)
    digest = store.put(TEXT)
    raw = bytearray(store.path(digest).read_bytes())
    raw[8] = 2
    store.path(digest).write_bytes(bytes(raw))
    with pytest.raises(BlobUnreadable) as caught:
        store.get(digest)
    assert caught.value.reason == "format"


def test_a_missing_blob_is_still_blob_missing(tmp_path):
    """Encryption changes nothing for a blob that is gone."""
    store = sealed(tmp_path, KEY_1)
    with pytest.raises(BlobMissing):
        store.get("0" * 64)
    with pytest.raises(BlobMissing), store.plaintext_file("0" * 64):
        pass


def test_a_plaintext_original_that_starts_like_a_sealed_one_is_still_served(tmp_path):
    """A stored file whose bytes happen to begin with the magic (say, a copied blob file that was
    ingested) is plaintext that hashes to its name: served with or without a key, and rotated."""
    lookalike = (
        sealed(tmp_path / "other", KEY_2).path(sealed(tmp_path / "other", KEY_2).put(b"x" * 100)).read_bytes()
    )
    plain = BlobStore(tmp_path / "store")
    digest = plain.put(lookalike)
    assert plain.get(digest) == lookalike
    keyed = sealed(tmp_path / "store", KEY_1)
    assert keyed.get(digest) == lookalike
    with keyed.plaintext_file(digest) as path:
        assert path.read_bytes() == lookalike
    report = keyed.rotate()
    assert report.resealed == 1 and report.failed == []
    assert keyed.state(keyed.path(digest)) == KEY_1.id and keyed.get(digest) == lookalike


# -- plaintext for the parser ----------------------------------------------------------------


def test_plaintext_file_of_a_sealed_blob_is_private_and_removed_after_the_block(tmp_path, private_tmp):
    """The parser's copy is the verified plaintext, mode 0600 in a 0700 folder, gone when the block ends."""
    store = sealed(tmp_path / "blobs", KEY_1)
    digest = store.put(TEXT)
    with store.plaintext_file(digest) as path:
        assert path.read_bytes() == TEXT
        assert path.is_relative_to(private_tmp)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.exists() and list(private_tmp.iterdir()) == []


def test_plaintext_file_is_removed_when_the_block_raises(tmp_path, private_tmp):
    """A parser failure inside the block still removes the plaintext copy."""
    store = sealed(tmp_path / "blobs", KEY_1)
    digest = store.put(TEXT)
    with pytest.raises(RuntimeError), store.plaintext_file(digest):
        raise RuntimeError("parser crashed")
    assert list(private_tmp.iterdir()) == []


def test_plaintext_file_of_a_plain_blob_is_the_blob_itself_after_a_checksum(tmp_path, private_tmp):
    """Unencrypted blobs are not copied; a corrupt one is refused before the block."""
    store = BlobStore(tmp_path / "blobs")
    digest = store.put(TEXT)
    with store.plaintext_file(digest) as path:
        assert path == store.path(digest)
    store.path(digest).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupt), store.plaintext_file(digest):
        pytest.fail("must not run")
    assert list(private_tmp.iterdir()) == []


def test_with_a_key_even_a_plaintext_blob_is_given_as_a_private_copy(tmp_path, private_tmp):
    """In a keyed store a rotation may seal a plaintext blob at any moment, so the parser never gets the
    stored path: it gets a checked private copy, removed afterwards."""
    digest = BlobStore(tmp_path / "blobs").put(TEXT)
    store = sealed(tmp_path / "blobs", KEY_1)
    with store.plaintext_file(digest) as path:
        assert path != store.path(digest) and path.is_relative_to(private_tmp) and path.read_bytes() == TEXT
        store.rotate()  # the stored file is sealed meanwhile: the copy is unaffected
        assert path.read_bytes() == TEXT and store.state(store.path(digest)) == KEY_1.id
    assert list(private_tmp.iterdir()) == []


def test_large_blobs_are_sealed_and_opened_in_pieces(tmp_path, private_tmp):
    """A blob of several MiB (more than one piece) round-trips through put, get, plaintext_file and rotate."""
    data = os.urandom(3 * (1 << 20) + 12345)
    store = sealed(tmp_path / "blobs", KEY_1)
    digest = store.put(data)
    assert store.get(digest) == data
    with store.plaintext_file(digest) as path:
        assert path.read_bytes() == data
    sealed(tmp_path / "blobs", KEY_2, KEY_1).rotate()
    assert sealed(tmp_path / "blobs", KEY_2).get(digest) == data


# -- mixed stores and rotation -----------------------------------------------------------------


def test_a_mixed_store_serves_both_and_rotate_encrypts_the_plaintext(tmp_path):
    """GIVEN blobs stored before encryption was turned on WHEN a key is set THEN old blobs are still served
    (checksum verified), new ones are sealed; `rotate` seals the old ones and is then a no-op."""
    before = BlobStore(tmp_path)
    old = before.put(TEXT)
    store = sealed(tmp_path, KEY_1)
    new = store.put(b"written after the key was set")
    assert store.get(old) == TEXT and store.state(store.path(old)) == "plaintext"
    assert store.state(store.path(new)) == KEY_1.id
    assert store.census().originals == {"plaintext": 1, KEY_1.id: 1}
    report = store.rotate()
    assert (report.resealed, report.already, report.failed) == (1, 1, [])
    assert TEXT not in store.path(old).read_bytes()
    assert store.census(verify=True).originals == {KEY_1.id: 2}
    again = store.rotate()
    assert (again.resealed, again.already) == (0, 2)


def test_old_keys_decrypt_and_rotation_moves_everything_to_the_new_key(tmp_path):
    """A ring (new current key + old key) reads blobs under both; after rotate the new key alone reads all."""
    digests = [sealed(tmp_path, KEY_1).put(TEXT + bytes([i])) for i in range(5)]
    ring = sealed(tmp_path, KEY_2, KEY_1)
    assert all(ring.get(d) == TEXT + bytes([i]) for i, d in enumerate(digests))
    assert ring.rotate().resealed == 5
    only_new = sealed(tmp_path, KEY_2)
    assert all(only_new.get(d) == TEXT + bytes([i]) for i, d in enumerate(digests))
    with pytest.raises(BlobUnreadable):
        sealed(tmp_path, KEY_1).get(digests[0])


def test_an_interrupted_rotation_leaves_everything_readable_and_a_second_run_finishes(tmp_path):
    """GIVEN a rotation stopped after 3 of 8 blobs THEN every blob reads with the ring, 3 are under the
    new key; running rotate again re-encrypts only the other 5 and ends with all under the new key."""
    digests = [sealed(tmp_path, KEY_1).put(TEXT + bytes([i])) for i in range(8)]
    ring = sealed(tmp_path, KEY_2, KEY_1)

    def crash_after_three(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ring.rotate(progress=crash_after_three)
    assert all(ring.get(d) == TEXT + bytes([i]) for i, d in enumerate(digests))
    assert ring.census().originals == {KEY_2.id: 3, KEY_1.id: 5}
    report = ring.rotate()
    assert (report.resealed, report.already, report.failed) == (5, 3, [])
    assert sealed(tmp_path, KEY_2).census(verify=True).originals == {KEY_2.id: 8}


CRASHING_ROTATION = """
import os, sys
from pathlib import Path
from records import BlobKey, BlobStore, KeyRing

old, new = BlobKey(bytes(range(32))), BlobKey(bytes(range(100, 132)))
store = BlobStore(Path(sys.argv[1]), KeyRing(new, (old,)))

def die(done, total):
    if done == int(sys.argv[2]):
        # a crash in the middle of the next file's write: a half-written temporary file stays behind
        name, path = list(store.originals())[done]
        (path.parent / ".tmp-crashed").write_bytes(path.read_bytes()[:100])
        os._exit(9)

store.rotate(progress=die)
"""


def test_a_rotation_killed_midway_loses_nothing_and_a_rerun_completes(tmp_path):
    """A rotating process that dies abruptly (os._exit, a half-written temp file left) leaves every blob
    whole; the next rotate skips the stray temp file and brings everything under the new key."""
    contents = {sealed(tmp_path, KEY_1).put(TEXT + bytes([i])): TEXT + bytes([i]) for i in range(6)}
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_ROTATION, str(tmp_path), "2"], cwd=ROOT, capture_output=True
    )
    assert proc.returncode == 9, proc.stderr.decode()
    ring = sealed(tmp_path, KEY_2, KEY_1)
    assert ring.census(verify=True).originals == {KEY_2.id: 2, KEY_1.id: 4}
    assert any(p.name == ".tmp-crashed" for p in tmp_path.rglob(".tmp-*"))
    report = ring.rotate()
    assert (report.resealed, report.already, report.total) == (4, 2, 6)
    store = sealed(tmp_path, KEY_2)
    assert {d: store.get(d) for d in contents} == contents


def test_rotation_leaves_an_unreadable_original_untouched_and_reports_it(tmp_path):
    """A tampered original is listed in ``failed`` with its reason, its bytes unchanged; the rest rotate."""
    store = sealed(tmp_path, KEY_1)
    good, bad = store.put(TEXT), store.put(b"tampered later")
    raw = bytearray(store.path(bad).read_bytes())
    raw[-1] ^= 1
    store.path(bad).write_bytes(bytes(raw))
    report = sealed(tmp_path, KEY_2, KEY_1).rotate()
    assert report.resealed == 1 and [name for name, _ in report.failed] == [bad]
    assert "备份" in report.failed[0][1]
    assert store.path(bad).read_bytes() == bytes(raw)
    assert sealed(tmp_path, KEY_2).get(good) == TEXT
    census = sealed(tmp_path, KEY_2, KEY_1).census(verify=True)
    assert census.originals == {KEY_2.id: 1, "unreadable": 1} and census.problems[0][0] == bad


def test_rotate_without_any_key_says_what_to_set(tmp_path):
    """There is nothing to rotate to without a key: a ConfigError naming the settings."""
    BlobStore(tmp_path).put(TEXT)
    with pytest.raises(ConfigError, match="DOSSIER_BLOB_KEY"):
        BlobStore(tmp_path).rotate()


def test_one_rotation_at_a_time(tmp_path):
    """A second rotation while one holds the store's lock is refused, not interleaved."""
    store = sealed(tmp_path, KEY_1)
    store.put(TEXT)
    with (tmp_path / ".rotate.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(RecordsError, match="rotation"):
            store.rotate()


# -- cached derived files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "../escape.png", "a/b.png", ".hidden", "-x", "x" * 201, "页面.png", "a..b", "a\\b", "a\0b"]
)
def test_cache_names_cannot_escape_the_cache(tmp_path, name):
    """Only plain names are accepted: no paths, dots-first, traversal, non-ASCII or overlong names."""
    store = BlobStore(tmp_path)
    with pytest.raises(ValueError):
        store.put_cached(name, b"x")
    with pytest.raises(ValueError):
        store.get_cached(name)


def test_cached_files_are_sealed_replaced_and_deleted(tmp_path):
    """put_cached seals (with a key), replaces atomically, get_cached returns None when absent."""
    store = sealed(tmp_path, KEY_1)
    assert store.get_cached("page-abc-1-800.png") is None
    store.put_cached("page-abc-1-800.png", b"\x89PNG first")
    store.put_cached("page-abc-1-800.png", b"\x89PNG second")
    assert store.get_cached("page-abc-1-800.png") == b"\x89PNG second"
    raw = store.cached_path("page-abc-1-800.png").read_bytes()
    assert b"PNG second" not in raw and store.state(store.cached_path("page-abc-1-800.png")) == KEY_1.id
    assert store.cached_path("page-abc-1-800.png").is_relative_to(tmp_path / "cache")
    assert [name for name, _ in store.cached()] == ["page-abc-1-800.png"]
    assert list(store.originals()) == []
    assert store.delete_cached("page-abc-1-800.png") and store.get_cached("page-abc-1-800.png") is None


def test_a_tampered_or_swapped_cached_file_is_refused(tmp_path):
    """A cached file that fails authentication raises BlobUnreadable (marked cached), never returns bytes."""
    store = sealed(tmp_path, KEY_1)
    store.put_cached("page-1.png", b"one")
    store.put_cached("page-2.png", b"two")
    store.cached_path("page-1.png").write_bytes(store.cached_path("page-2.png").read_bytes())
    with pytest.raises(BlobUnreadable) as caught:
        store.get_cached("page-1.png")
    assert caught.value.cached and "page-1.png" in caught.value.message and "重新生成" in caught.value.message


def test_with_a_key_a_plaintext_cached_file_counts_as_absent_and_rotate_removes_it(tmp_path):
    """Unauthenticated derived data is not served once encryption is on; rotate drops it and reseals the rest."""
    BlobStore(tmp_path).put_cached("page-old.png", b"plain png")
    assert BlobStore(tmp_path).get_cached("page-old.png") == b"plain png"
    sealed(tmp_path, KEY_1).put_cached("page-sealed.png", b"sealed png")
    ring = sealed(tmp_path, KEY_2, KEY_1)
    assert ring.get_cached("page-old.png") is None
    report = ring.rotate()
    assert (report.resealed, report.dropped) == (1, 1)
    assert not ring.cached_path("page-old.png").exists()
    assert sealed(tmp_path, KEY_2).get_cached("page-sealed.png") == b"sealed png"
    assert ring.census().cached == {KEY_2.id: 1}


# -- keys --------------------------------------------------------------------------------------


def test_keys_parse_from_hex_and_base64_alike():
    """Hex, standard base64 and URL-safe base64 without padding of the same bytes are the same key."""
    secret = bytes(range(200, 232))
    forms = [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        "  " + secret.hex() + "\n",
    ]
    assert {BlobKey.parse(f, "test").id for f in forms} == {BlobKey(secret).id}
    assert BlobKey.parse(BlobKey(secret).encoded(), "x").secret == secret


@pytest.mark.parametrize(
    "value",
    [
        "short",
        "00" * 31,
        "ab" * 33,
        base64.b64encode(b"k" * 31).decode(),
        base64.b64encode(b"k" * 33).decode(),
        "00" * 32,
        "zz" * 32,
        "not base64 at all !!!!!!!!!!!!!!!!!!!!!!!!!!!",
    ],
)
def test_a_malformed_key_is_a_clear_config_error_that_never_echoes_the_value(value):
    """Wrong length, placeholder or not an encoding: a bilingual ConfigError naming the setting, not the value."""
    with pytest.raises(ConfigError) as caught:
        KeyRing.from_settings(key=value)
    message = caught.value.message
    assert "DOSSIER_BLOB_KEY" in message and "32" in message and "/" in message
    assert value.strip() not in message


def test_key_repr_does_not_show_the_secret():
    """Printing a key (a log line, a traceback's locals) shows no key material."""
    assert KEY_1.secret.hex() not in repr(KEY_1) and KEY_1.encoded() not in repr(KEY_1)
    assert KEY_1.secret.hex() not in repr(KeyRing(KEY_1))


def test_the_key_ring_from_settings(tmp_path):
    """DOSSIER_BLOB_KEY or a key file (first key current, others old) plus DOSSIER_BLOB_KEY_OLD; not both."""
    assert KeyRing.from_settings() == KeyRing()
    ring = KeyRing.from_settings(key=KEY_1.encoded(), old=f"{KEY_2.secret.hex()}, ")
    assert ring.current == KEY_1 and ring.old == (KEY_2,)
    key_file = tmp_path / "blob.keys"
    write_key_file(key_file, KEY_2, [KEY_1])
    ring = KeyRing.from_settings(key_file=str(key_file))
    assert ring.current == KEY_2 and ring.old == (KEY_1,)
    with pytest.raises(ConfigError, match="not both"):
        KeyRing.from_settings(key=KEY_1.encoded(), key_file=str(key_file))
    only_old = KeyRing.from_settings(old=KEY_1.encoded())
    assert only_old.current is None and only_old.find(KEY_1.id_bytes) == KEY_1


def test_key_files_are_private_never_overwritten_and_checked(tmp_path):
    """write_key_file makes a 0600 file and refuses an existing one unless replacing; bad files say which line."""
    path = tmp_path / "k" / "blob.keys"
    write_key_file(path, KEY_1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and read_key_file(path) == [KEY_1]
    with pytest.raises(FileExistsError):
        write_key_file(path, KEY_2)
    write_key_file(path, KEY_2, read_key_file(path), replace=True)
    assert read_key_file(path) == [KEY_2, KEY_1] and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("# comment only\n\n")
    with pytest.raises(ConfigError, match="no key"):
        read_key_file(path)
    path.write_text(f"{KEY_1.encoded()}\nnot-a-key\n")
    with pytest.raises(ConfigError, match="line 2"):
        read_key_file(path)
    with pytest.raises(ConfigError, match="cannot read the key file"):
        read_key_file(tmp_path / "missing.keys")

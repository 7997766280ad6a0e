"""`dossier keys generate|status|rotate` through click's runner, on a real data home."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from dossier.cli import cli
from records import BlobStore, KeyRing, read_key_file
from tests.conftest import DEV

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
FILES = [
    DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt",
    DEV / "contracts" / "产品购销合同_昌隆精密_HT-2023-1213.md",
]


def _run(home: Path, *args: str, **env: str):
    runner = CliRunner(
        env={
            **NO_REDIS,
            "DOSSIER_BLOB_KEY": "",
            "DOSSIER_BLOB_KEY_FILE": "",
            "DOSSIER_BLOB_KEY_OLD": "",
            **env,
        }
    )
    return runner.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def _secrets(*files: Path) -> list[str]:
    return [key.encoded() for f in files for key in read_key_file(f)] + [
        key.secret.hex() for f in files for key in read_key_file(f)
    ]


def test_generate_writes_a_private_key_file_and_never_prints_the_key(tmp_path):
    """A new 0600 file holding one key; the output names its id and the path, not the key; no overwrite."""
    key_file = tmp_path / "keys" / "blob.keys"
    result = _run(tmp_path / "home", "keys", "generate", str(key_file))
    assert result.exit_code == 0, result.output
    (key,) = read_key_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key.id in result.output and str(key_file) in result.output
    assert not any(secret in result.output for secret in _secrets(key_file))
    assert "lose the key = lose the originals" in result.output
    again = _run(tmp_path / "home", "keys", "generate", str(key_file))
    assert again.exit_code == 1 and "never overwritten" in again.output and read_key_file(key_file) == [key]


def test_generate_add_puts_a_new_key_on_top_and_keeps_the_old_ones(tmp_path):
    """--add: the new key becomes the first (encrypting) one; the old one stays, for reading."""
    key_file = tmp_path / "blob.keys"
    _run(tmp_path / "home", "keys", "generate", str(key_file))
    (old,) = read_key_file(key_file)
    result = _run(tmp_path / "home", "keys", "generate", "--add", str(key_file))
    assert result.exit_code == 0, result.output
    new, kept = read_key_file(key_file)
    assert kept == old and new != old and new.id in result.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_generate_warns_about_a_key_file_inside_the_data_home(tmp_path):
    """Keeping the key beside the data it protects is called out."""
    home = tmp_path / "home"
    result = _run(home, "keys", "generate", str(home / "blob.keys"))
    assert result.exit_code == 0 and "inside the data folder" in result.output


def test_turning_encryption_on_for_an_existing_store_then_rotating(tmp_path):
    """GIVEN a home with plaintext originals WHEN a key file is configured THEN status says they are plaintext,
    `keys rotate` encrypts them (progress and summary), a second run is a no-op, and search/show still work."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    assert _run(home, "ingest", *map(str, FILES), "--wait").exit_code == 0
    off = _run(home, "keys", "status")
    assert off.exit_code == 0 and "关闭 off" in off.output and "明文 plaintext 2" in off.output
    key_file = tmp_path / "blob.keys"
    _run(home, "keys", "generate", str(key_file))
    (key,) = read_key_file(key_file)
    env = {"DOSSIER_BLOB_KEY_FILE": str(key_file)}
    before = _run(home, "keys", "status", **env)
    assert before.exit_code == 0 and "2 blobs are not under the current key" in before.output
    rotated = _run(home, "keys", "rotate", **env)
    assert rotated.exit_code == 0, rotated.output
    assert f"key {key.id}: re-encrypted 2, already under it 0" in rotated.output
    assert "轮换 rotate" in rotated.output  # the progress line (stderr is mixed in by the runner)
    again = _run(home, "keys", "rotate", **env)
    assert "re-encrypted 0, already under it 2" in again.output
    status = json.loads(_run(home, "keys", "status", "--verify", "--json", **env).output)
    assert status == {
        "encryption": True,
        "current_key": key.id,
        "keys": [key.id],
        "originals": {key.id: 2},
        "cached": {},
        "unconfigured_keys": [],
        "problems": [],
    }
    for path in BlobStore(home / "blobs").originals():
        assert FILES[0].read_bytes()[:64] not in path[1].read_bytes()
    found = json.loads(_run(home, "search", "金桥", "--json", **env).output)
    assert found["total"] == 1
    assert not any(secret in rotated.output + before.output for secret in _secrets(key_file))


def test_rotate_to_a_new_key_file_then_switch_the_settings(tmp_path):
    """`rotate --new-key-file` moves every blob to that key and says what to set; with the old settings
    status then flags the unconfigured key (exit 1); with the new key + the old as old key all is well."""
    home = tmp_path / "home"
    old_file, new_file = tmp_path / "old.keys", tmp_path / "new.keys"
    _run(home, "keys", "generate", str(old_file))
    _run(home, "keys", "generate", str(new_file))
    (old,), (new,) = read_key_file(old_file), read_key_file(new_file)
    old_env = {"DOSSIER_BLOB_KEY_FILE": str(old_file)}
    assert _run(home, "init", **old_env).exit_code == 0
    assert _run(home, "ingest", *map(str, FILES), "--wait", **old_env).exit_code == 0
    result = _run(home, "keys", "rotate", "--new-key-file", str(new_file), **old_env)
    assert result.exit_code == 0, result.output
    assert (
        f"key {new.id}: re-encrypted 2" in result.output
        and f"DOSSIER_BLOB_KEY_FILE={new_file}" in result.output
    )
    stale = _run(home, "keys", "status", **old_env)
    assert stale.exit_code == 1 and f"key {new.id}, which is not configured" in stale.output
    new_env = {"DOSSIER_BLOB_KEY_FILE": str(new_file), "DOSSIER_BLOB_KEY_OLD": old.encoded()}
    fine = _run(home, "keys", "status", **new_env)
    assert fine.exit_code == 0 and f"old keys (read only): {old.id}" in fine.output
    shown = json.loads(_run(home, "show", "1", "--json", **new_env).output)
    assert (
        BlobStore(home / "blobs", KeyRing(new)).get(shown["versions"][0]["sha256"]) == FILES[0].read_bytes()
    )


def test_status_verify_and_rotate_report_a_tampered_blob_and_exit_1(tmp_path):
    """A blob altered on disk: `status --verify` lists it with the reason, `rotate` leaves it and exits 1."""
    home = tmp_path / "home"
    key_file = tmp_path / "blob.keys"
    _run(home, "keys", "generate", str(key_file))
    env = {"DOSSIER_BLOB_KEY_FILE": str(key_file)}
    _run(home, "init", **env)
    _run(home, "ingest", *map(str, FILES), "--wait", **env)
    _, path = next(BlobStore(home / "blobs").originals())
    raw = bytearray(path.read_bytes())
    raw[40] ^= 1
    path.write_bytes(bytes(raw))
    quick = _run(home, "keys", "status", **env)
    assert quick.exit_code == 0  # the header still names the key: only --verify reads the whole file
    verify = _run(home, "keys", "status", "--verify", **env)
    assert (
        verify.exit_code == 1
        and f"✗ {path.name}" in verify.output
        and "fails authentication" in verify.output
    )
    assert "无法读取 unreadable 1" in verify.output
    _run(home, "keys", "generate", "--add", str(key_file))
    rotate = _run(home, "keys", "rotate", **env)
    assert rotate.exit_code == 1 and "re-encrypted 1" in rotate.output and "failed 1" in rotate.output
    assert path.read_bytes() == bytes(raw)


def test_a_malformed_key_is_one_line_at_start_for_every_command(tmp_path):
    """A bad DOSSIER_BLOB_KEY: exit 1 and a bilingual one-liner naming the setting — never a traceback or the value."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    for args in (("status",), ("keys", "status"), ("search", "合同")):
        result = _run(home, *args, DOSSIER_BLOB_KEY="0123456789abcdef-not-a-key")
        assert result.exit_code == 1, args
        assert "DOSSIER_BLOB_KEY" in result.output and "not a valid key" in result.output
        assert "Traceback" not in result.output and "0123456789abcdef-not-a-key" not in result.output
    both = _run(home, "status", DOSSIER_BLOB_KEY="x", DOSSIER_BLOB_KEY_FILE="/x")
    assert both.exit_code == 1 and "not both" in both.output

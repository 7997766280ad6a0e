"""`dossier backup DEST [--verify|--list]` and `dossier restore SRC` through click's runner and as processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dossier.cli import cli
from tests.conftest import ADMIN_PASSWORD, DEV, ROOT

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", "DOSSIER_WORKERS": "1"}
FILES = [
    DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt",
    DEV / "contracts" / "产品购销合同_昌隆精密_HT-2023-1213.md",
]


def _run(home: Path, *args: str, **env: str):
    runner = CliRunner(env={**NO_REDIS, "DOSSIER_ADMIN_PASSWORD": ADMIN_PASSWORD, **env})
    return runner.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    assert _run(home, "ingest", *map(str, FILES), "--wait").exit_code == 0
    return home


def test_backup_verify_restore_and_status(tmp_path):
    """backup prints what it did; --verify says the snapshot is sound; restore fills an empty home whose
    search finds the same documents; status shows the last backup; a second restore is refused."""
    home, dest = _home(tmp_path), tmp_path / "dest"
    made = _run(home, "backup", str(dest))
    assert made.exit_code == 0 and "Backup made" in made.output and "documents: 2" in made.output
    checked = _run(home, "backup", "--verify", str(dest), "--json")
    assert checked.exit_code == 0 and json.loads(checked.output)["ok"] is True
    listed = _run(home, "backup", "--list", str(dest))
    assert listed.output.split() == [p.name for p in (dest / "snapshots").iterdir()]
    assert "Last backup" in _run(home, "status").output
    target = tmp_path / "restored"
    restored = _run(target, "restore", str(dest), "--json")
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.output)["counts"]["documents"] == 2
    hits = [json.loads(_run(h, "search", "合同", "--json").output)["total"] for h in (home, target)]
    assert hits[0] == hits[1] > 0
    again = _run(target, "restore", str(dest))
    assert again.exit_code == 1 and "not empty" in again.output


def test_verify_names_a_truncated_file_and_exits_1(tmp_path):
    """A truncated original in the pool: --verify lists it and exits 1; restore refuses naming it."""
    home, dest = _home(tmp_path), tmp_path / "dest"
    _run(home, "backup", str(dest))
    victim = sorted(p for p in (dest / "blobs").rglob("*") if p.is_file())[0]
    victim.write_bytes(victim.read_bytes()[:10])
    shown = str(victim.relative_to(dest))
    checked = _run(home, "backup", "--verify", str(dest))
    assert checked.exit_code == 1 and shown in checked.output
    refused = _run(tmp_path / "t", "restore", str(dest))
    assert refused.exit_code == 1 and shown in refused.output and not (tmp_path / "t" / "dossier.db").exists()


def test_a_backup_killed_with_sigkill_leaves_nothing_that_looks_complete(tmp_path):
    """`kill -9` of a running `dossier backup` (stopped as soon as its snapshot folder exists, before the
    manifest): no snapshot is listed or restorable, and the next backup cleans up and succeeds."""
    home, dest = _home(tmp_path), tmp_path / "dest"
    env = {**os.environ, **NO_REDIS, "DOSSIER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("DOSSIER_OPENSEARCH_URL", None)
    # The child stops itself (SIGSTOP) right after making the snapshot folder, so the kill lands mid-backup.
    script = (
        "import os, signal\n"
        "from dossier.app.backup import Destination\n"
        "made = Destination.new_snapshot\n"
        "def stop(self, now=None):\n"
        "    path = made(self, now)\n"
        "    os.kill(os.getpid(), signal.SIGSTOP)\n"
        "    return path\n"
        "Destination.new_snapshot = stop\n"
        "from dossier.cli import main\n"
        "import sys; sys.argv = ['dossier', 'backup', " + repr(str(dest)) + "]\n"
        "main()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tmp_path)
    try:
        _, status = os.waitpid(child.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    (partial,) = list((dest / "snapshots").iterdir())
    assert not (partial / "MANIFEST.json").exists()
    assert _run(home, "backup", "--list", str(dest)).output.strip() == ""
    refused = _run(tmp_path / "t", "restore", str(dest))
    assert refused.exit_code == 1 and "no finished backup" in refused.output
    assert _run(home, "backup", str(dest)).exit_code == 0
    (finished,) = list((dest / "snapshots").iterdir())
    assert (finished / "MANIFEST.json").is_file()

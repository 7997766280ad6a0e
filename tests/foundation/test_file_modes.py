"""The data home is the running account's alone: the folder 0700, every file in it 0600.

Through the real `dossier` command (a process started with the common umask 022, as from a login
shell), the WSGI module, an export job and `dossier redis-up`; and `dossier status` warns about
whatever others may still read, in its text and in ``--json``.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from foundation.filemodes import file_mode_problems

NO_REDIS = "redis://127.0.0.1:1/0"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "INHERITED_DOSSIER_"))}
    env.update(DOSSIER_HOME=str(home), DOSSIER_REDIS_URL=NO_REDIS, DOSSIER_WORKERS="1")
    return env


def _dossier(home: Path, *args: str) -> subprocess.CompletedProcess:
    """The `dossier` command as a user's shell starts it: umask 022 (files 0644, folders 0755 by default)."""
    return subprocess.run(
        [sys.executable, "-m", "dossier", *args],
        env=_env(home),
        cwd=home.parent,
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_init_ingest_and_export_leave_nothing_readable_by_others(tmp_path):
    """GIVEN umask 022 WHEN `init`, `ingest` and `export -o` run THEN the home is 0700 and every file in it
    (database, -wal/-shm, session key, blobs) and the export are 0600; `status` has no warning."""
    home = tmp_path / "home"
    assert _dossier(home, "init").returncode == 0
    assert _mode(home) == 0o700
    assert _mode(home / "dossier.db") == 0o600 and _mode(home / "secret_key") == 0o600
    doc = tmp_path / "纪要.txt"
    doc.write_text("会议纪要：明远科技 服务器采购。", encoding="utf-8")
    ingested = _dossier(home, "ingest", str(doc), "--json")
    assert ingested.returncode == 0 and json.loads(ingested.stdout)["ingested"] == 1, ingested.stderr
    blobs = [p for p in (home / "blobs").rglob("*") if p.is_file()]
    assert blobs and all(_mode(p) == 0o600 for p in blobs)
    assert all(_mode(p) == 0o700 for p in (home / "blobs").rglob("*") if p.is_dir())
    out = tmp_path / "hits.csv"
    assert _dossier(home, "export", "服务器", "--format", "csv", "-o", str(out)).returncode == 0
    assert _mode(out) == 0o600
    assert file_mode_problems(home) == []
    status = _dossier(home, "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["warnings"] == []


def test_an_old_home_is_made_private_when_opened_and_status_warns_about_what_remains(tmp_path):
    """A home made before (0755, dossier.db 0644, an export 0644) is tightened when a command opens it; what
    it does not walk (a blob deep inside made 0644 by hand) `status` names, in its text and --json."""
    home = tmp_path / "home"
    assert _dossier(home, "init").returncode == 0
    doc = tmp_path / "a.txt"
    doc.write_text("报价单：服务器十台。", encoding="utf-8")
    assert _dossier(home, "ingest", str(doc)).returncode == 0
    blob = next(p for p in (home / "blobs").rglob("*") if p.is_file())
    (home / "exports").mkdir(exist_ok=True)
    old_export = home / "exports" / "1-old.csv"
    old_export.write_text("id,title\n", encoding="utf-8")
    for path, mode in ((home, 0o755), (home / "dossier.db", 0o644), (old_export, 0o644), (blob, 0o644)):
        path.chmod(mode)
    assert {p["path"] for p in file_mode_problems(home)} == {
        str(home),
        str(home / "dossier.db"),
        str(old_export),
        str(blob),
    }

    status = _dossier(home, "status", "--json")
    info = json.loads(status.stdout)
    assert [p["path"] for p in info["file_modes"]] == [str(blob)]
    assert info["file_modes"][0]["mode"] == "0644" and info["file_modes"][0]["expected"] == "0600"
    assert (
        len(info["warnings"]) == 1 and str(blob) in info["warnings"][0] and "chmod 600" in info["warnings"][0]
    )
    assert _mode(home) == 0o700 and _mode(home / "dossier.db") == 0o600 and _mode(old_export) == 0o600
    text = _dossier(home, "status")
    assert text.returncode == 0 and "warning" in text.stderr and str(blob) in text.stderr


def test_the_wsgi_app_and_workers_run_with_a_private_umask(tmp_path):
    """`gunicorn webui.wsgi:app` and `python -m dossier` (how workers start) make private files."""
    home = tmp_path / "home"
    assert _dossier(home, "init").returncode == 0
    probe = "import os, webui.wsgi; print(oct(os.umask(0)))"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        env=_env(home),
        cwd=tmp_path,
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0 and run.stdout.strip() == "0o77", run.stderr


def test_a_background_export_file_is_private_whatever_the_umask(dossier, admin):
    """An export job writes its file 0600 under exports/ (0700), even in a process with umask 022."""
    from records import ExportJob

    old = os.umask(0o022)
    try:
        with dossier.sessions() as session:
            job = ExportJob(
                username="admin",
                format="csv",
                request={"query": ""},
                base_url="",
                status="queued",
                total=0,
                done=0,
                size=0,
            )
            session.add(job)
            session.commit()
            job_id = job.id
        assert dossier.exports.run_job(job_id, "w1") == "done"
    finally:
        os.umask(old)
    files = list((dossier.settings.home / "exports").iterdir())
    assert (
        files and all(_mode(p) == 0o600 for p in files) and _mode(dossier.settings.home / "exports") == 0o700
    )


@pytest.mark.skipif(
    not any((Path(p) / "redis-server").exists() for p in os.environ.get("PATH", "").split(":")),
    reason="redis-server is not installed",
)
def test_redis_up_keeps_the_queue_files_private(tmp_path):
    """`dossier redis-up` puts Redis's folder (0700) and files (0600) in the home."""
    import redis

    from tests._redis import free_port

    home = tmp_path / "home"
    home.mkdir()
    url = f"redis://127.0.0.1:{free_port()}/0"
    env = {**_env(home), "DOSSIER_REDIS_URL": url}
    started = subprocess.run(
        [sys.executable, "-m", "dossier", "redis-up"],
        env=env,
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    client = redis.Redis.from_url(url)
    try:
        client.set("probe", "1")
        assert _mode(home / "redis") == 0o700
        files = [p for p in (home / "redis").rglob("*") if p.is_file()]
        assert files and all(_mode(p) == 0o600 for p in files), [(p.name, oct(_mode(p))) for p in files]
    finally:
        client.shutdown(nosave=True)

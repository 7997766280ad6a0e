"""The first run: `dossier init` says what became of the admin account and the next steps; `dossier demo`
loads the sample data (registry first, then the files) once, and says so the second time; the local Redis
of `make run` is stopped by `dossier redis-down` and by stopping `dossier serve --local-redis` (Ctrl+C),
while a Redis Dossier did not start is left alone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from dossier.cli import cli
from tests._redis import RedisServer, free_port
from tests.conftest import DEV, ROOT

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
HAS_REDIS = shutil.which("redis-server") is not None
PASSWORD = "首次-运行-Passw0rd"
#: Three contracts of the sample data (a PDF, a Word file, a text file) and the registry: the demo in small.
DEMO_FILES = (
    "contracts/销售合同_泰和设计_HT-2023-1129.pdf",
    "contracts/技术服务合同_恒达贸易_FW-2024-013_终稿.docx",
    "contracts/等保整改服务协议_金桥电气_FW-2024-192.txt",
)


def _run(home: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner(env={**NO_REDIS, **(env or {})}).invoke(
        cli, ["--home", str(home), *args], catch_exceptions=False
    )


def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


# -- dossier init ---------------------------------------------------------------------------------


def test_init_with_a_preset_password_says_it_was_created(tmp_path):
    """DOSSIER_ADMIN_PASSWORD: "admin created, password from the setting" — never "admin exists" the first time."""
    first = _run(tmp_path, "init", env={"DOSSIER_ADMIN_PASSWORD": PASSWORD})
    assert first.exit_code == 0, first.output
    assert "admin user created; its password is the one in DOSSIER_ADMIN_PASSWORD" in first.output
    assert "exists" not in first.output and PASSWORD not in first.output
    # The next steps: the web page, the sample data, the registry import, the ways in.
    for step in (
        "http://127.0.0.1:8000/",
        "make demo",
        "dossier customers import",
        "dossier ingest",
        "dossier watch",
    ):
        assert step in first.output, step
    again = _run(tmp_path, "init", "--quiet", env={"DOSSIER_ADMIN_PASSWORD": PASSWORD})
    assert "admin user exists; its password is unchanged" in again.output and "next steps" not in again.output


def test_a_generated_password_is_printed_once_and_kept_nowhere(tmp_path):
    first = _run(tmp_path, "init")
    assert "admin user created" in first.output and "shown only once" in first.output
    password = first.output.split("password:")[1].split()[0]
    again = _run(tmp_path, "init")
    assert password not in again.output and "admin user exists" in again.output
    for path in tmp_path.rglob("*"):  # not in a log, not in the database: only its hash is kept
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


# -- dossier demo ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A small copy of the sample data in its layout: the registry, three contracts, and bad/ (left out)."""
    root = tmp_path_factory.mktemp("sample") / "corpus"
    (root / "dev").mkdir(parents=True)
    shutil.copy(DEV / "customers.json", root / "dev" / "customers.json")
    for name in DEMO_FILES:
        (root / "dev" / name).parent.mkdir(exist_ok=True)
        shutil.copy(DEV / name, root / "dev" / name)
    (root / "dev" / "bad").mkdir()
    (root / "dev" / "bad" / "empty.pdf").write_bytes(b"")
    return root


def test_demo_loads_the_registry_then_the_files_once(tmp_path, sample):
    _run(tmp_path, "init", "--quiet", env={"DOSSIER_ADMIN_PASSWORD": PASSWORD})
    report = json.loads(_run(tmp_path, "demo", "--data", str(sample), "--json", "--workers", "1").output)
    customers = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))["customers"]
    assert report["registry"]["created"] >= len(customers) and report["registry"]["errors"] == []
    assert report["folders"] == ["contracts"]  # bad/ is not customer data
    assert report["ingest"]["ingested"] == 3 and report["ingest"]["failed"] == []
    # The files were filed under the registry's customers: a short name finds the contract, with its customer.
    short = next(c for c in customers if c["full_name"].startswith("泰和") or "泰和" in c["short_name"])
    found = json.loads(_run(tmp_path, "search", short["short_name"], "--json").output)
    contract = next(h for h in found["hits"] if h["filename"].startswith("销售合同_泰和设计"))
    assert contract["doc_type"] == "contract" and short["full_name"] in contract["customers"]
    assert report["example"]  # what to type first
    # A second run adds nothing twice and says so.
    again = _run(tmp_path, "demo", "--data", str(sample / "dev"), "--workers", "1")
    assert again.exit_code == 0, again.output
    assert "ingested: 0" in again.output and "duplicates: 3" in again.output
    assert "nothing was added twice" in again.output
    listed = json.loads(_run(tmp_path, "search", "合同", "--json").output)
    assert listed["total"] == 3


def test_demo_without_the_sample_data_says_where_it_looked(tmp_path):
    _run(tmp_path, "init", "--quiet", env={"DOSSIER_ADMIN_PASSWORD": PASSWORD})
    missing = _run(tmp_path, "demo", "--data", str(tmp_path / "nowhere"))
    assert missing.exit_code == 1
    assert "no sample data" in missing.output and str(tmp_path / "nowhere") in missing.output
    assert "--data" in missing.output and "DOSSIER_CORPUS" in missing.output
    unknown = _run(tmp_path, "demo", "--data", str(DEV), "--only", "nonsense")
    assert unknown.exit_code == 1 and "nonsense" in unknown.output and "contracts" in unknown.output


def test_demo_finds_the_sample_data_beside_the_repository():
    """Without --data: DOSSIER_CORPUS, else ../shared/corpus beside the repository (where a fresh clone has it)."""
    from dossier.cli.first_run import REPOSITORY, demo_folder

    assert REPOSITORY == ROOT
    assert demo_folder(None) == DEV.resolve()


# -- the local Redis ------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_REDIS, reason="redis-server is not installed")
def test_redis_down_stops_the_redis_dossier_started_and_no_other(tmp_path, redis_server):
    url = f"redis://127.0.0.1:{free_port()}/0"
    env = {"DOSSIER_REDIS_URL": url}
    up = _run(tmp_path, "redis-up", env=env)
    try:
        assert up.exit_code == 0 and "dossier redis-down" in up.output and _answers(url)
        down = _run(tmp_path, "redis-down", env=env)
        assert down.exit_code == 0 and "stopped the local Redis" in down.output
        assert not _answers(url)
        assert "no Redis runs" in _run(tmp_path, "redis-down", env=env).output
    finally:
        if _answers(url):
            redis.Redis.from_url(url).shutdown(nosave=True)
    # A Redis somebody else started (here: the tests') is left running.
    other = _run(tmp_path, "redis-down", env={"DOSSIER_REDIS_URL": redis_server.url})
    assert "was not started by Dossier" in other.output and _answers(redis_server.url)


def _serve(home: Path, url: str, port: int) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")},
        "PYTHONPATH": str(ROOT),
        "DOSSIER_HOME": str(home),
        "DOSSIER_REDIS_URL": url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dossier", "serve", "--local-redis", "--workers", "0", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)
    process.kill()
    raise AssertionError("dossier serve did not answer")


@pytest.mark.skipif(not HAS_REDIS, reason="redis-server is not installed")
def test_ctrl_c_on_serve_stops_the_redis_it_started_only(tmp_path):
    """`make run` is `dossier serve --local-redis`: Ctrl+C (SIGINT) stops the server and the Redis it started."""
    _run(tmp_path, "init", "--quiet", env={"DOSSIER_ADMIN_PASSWORD": PASSWORD})
    url = f"redis://127.0.0.1:{free_port()}/0"
    process = _serve(tmp_path, url, free_port())
    try:
        assert _answers(url)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        assert "stopped the local Redis" in output and not _answers(url)
    finally:
        if process.poll() is None:
            process.kill()
        if _answers(url):
            redis.Redis.from_url(url).shutdown(nosave=True)
    # A Redis that was running before serve started is left running when it stops.
    server = RedisServer(tmp_path / "theirs")
    try:
        process = _serve(tmp_path, server.url, free_port())
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert "stopped the local Redis" not in output and _answers(server.url)
    finally:
        if process.poll() is None:
            process.kill()
        server.stop()

"""GET /healthz and the container probes of webui.health, against real SQLite homes and a real Redis."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from pipeline.queue import JobQueue
from webui import create_app
from webui import health as health_module
from workers.runner import worker_name

UNREACHABLE_REDIS = "redis://:s3cret-in-url@127.0.0.1:1/0"


def _settings(home: Path, redis_url: str = UNREACHABLE_REDIS):
    return load_settings(
        environ={"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": redis_url}, dotenv=Path("/nonexistent")
    )


def _initialised(home: Path, redis_url: str = UNREACHABLE_REDIS):
    settings = _settings(home, redis_url)
    Dossier.open(settings, require_init=False).init(admin_password="health-Passw0rd")
    return settings


def test_uninitialised_home_is_503(tmp_path: Path) -> None:
    """Before `dossier init` the records cannot answer: 503, no login asked, JSON says why in one word."""
    client = create_app(_settings(tmp_path / "home"), test_config={"TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "error": "NotInitialised"}


def test_database_up_queue_down_is_degraded_200(tmp_path: Path) -> None:
    """The records answer but Redis does not: 200 (the web app works), status degraded, no secret leaked."""
    client = create_app(_initialised(tmp_path / "home"), test_config={"TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"] == {"ok": True, "backend": "sqlite"}
    assert body["index"] == {"ok": True, "backend": "sqlite"}
    assert body["queue"]["ok"] is False
    assert "s3cret-in-url" not in response.get_data(as_text=True)


def test_everything_up_is_ok(tmp_path: Path, redis_url: str) -> None:
    """Records, a real Redis and the embedded index all answer: status ok with the queue's numbers."""
    client = create_app(
        _initialised(tmp_path / "home", redis_url), test_config={"TESTING": True}
    ).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["queue"] == {"ok": True, "jobs": 0, "workers": 0}


def test_worker_probe_follows_the_liveness_key(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m webui.health --worker` is healthy exactly while a worker of this host holds its liveness key."""
    settings = _initialised(tmp_path / "home", redis_url)
    for name, value in settings.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    queue = JobQueue.from_settings(settings)
    assert health_module.main(["--worker"]) == 1
    queue.mark_alive(worker_name())  # what a running worker's housekeeping does
    assert health_module.main(["--worker"]) == 0
    queue.mark_gone(worker_name())
    assert health_module.main(["--worker"]) == 1


def test_worker_probe_without_redis_is_unhealthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """No Redis: the worker probe fails with the reason on stderr instead of crashing."""
    monkeypatch.setenv("DOSSIER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOSSIER_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.chdir(tmp_path)
    assert health_module.main(["--worker"]) == 1
    assert "Redis" in capsys.readouterr().err


def test_web_probe_against_a_closed_port_is_unhealthy() -> None:
    """The image's HEALTHCHECK probe fails (exit 1) when nothing answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert health_module.probe_web(f"http://127.0.0.1:{port}/healthz", timeout_s=2) == 1


def test_work_waiting_without_a_live_worker_is_degraded(tmp_path: Path, redis_url: str) -> None:
    """Queued files and no worker alive: 200 but degraded, with the reason (nothing would ever process them);
    ok again once a worker has processed them, and while one is alive."""
    from tests.conftest import DEV
    from workers.runner import run_worker

    settings = _initialised(tmp_path / "home", redis_url)
    dossier = Dossier.open(settings)
    client = create_app(settings, test_config={"TESTING": True}).test_client()
    contract = DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt"
    admin = dossier.accounts.principal_for("admin")
    assert dossier.ingest_upload(contract.name, contract.read_bytes(), principal=admin)["status"] == "queued"
    body = client.get("/healthz").get_json()
    assert (
        body["status"] == "degraded" and body["queue"]["ok"] is False and body["queue"]["error"] == "NoWorker"
    )
    assert body["reasons"] == ["有待处理的工作，但没有工作进程在运行"]  # the reader's language
    english = client.get("/healthz?lang=en").get_json()
    assert english["reasons"] == ["work is waiting and no worker is running"]
    queue = JobQueue.from_settings(settings)
    queue.mark_alive("a-worker")
    assert client.get("/healthz").get_json()["status"] == "ok"  # a worker will take it
    queue.mark_gone("a-worker")
    run_worker(settings, burst=True)
    body = client.get("/healthz").get_json()
    assert (
        body["status"] == "ok"
        and body["reasons"] == []
        and body["queue"] == {"ok": True, "jobs": 0, "workers": 0}
    )

"""`dossier redis-up` (what `make run` calls): start a local Redis only when none answers."""

from __future__ import annotations

import os
import subprocess
import sys

import redis

from tests._redis import free_port


def _run(home, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update(DOSSIER_HOME=str(home), DOSSIER_REDIS_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "dossier", "redis-up"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_redis_up_starts_a_local_redis_in_the_data_home_and_then_leaves_it_alone(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    started = _run(tmp_path, url)
    assert started.returncode == 0, started.stderr
    assert "started a local Redis" in started.stdout
    client = redis.Redis.from_url(url)
    try:
        assert client.ping()
        assert (tmp_path / "redis" / "redis.pid").is_file()
        again = _run(tmp_path, url)
        assert again.returncode == 0 and "Redis is running" in again.stdout
    finally:
        client.shutdown(nosave=True)


def test_redis_up_refuses_to_start_a_remote_redis(tmp_path):
    run = _run(tmp_path, "redis://192.0.2.1:6379/0")  # TEST-NET-1: never answers
    assert run.returncode == 1
    assert "不是本机地址" in run.stderr and "not local" in run.stderr

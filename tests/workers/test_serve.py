"""`dossier serve` runs the web UI and one worker per core, and takes them down with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests._redis import free_port
from tests.workers.test_queue import queued_dossier, wait_until  # noqa: F401  (fixture)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split()[2] != "Z"


def _serve(d, port: int) -> subprocess.Popen:
    env = {**os.environ, **d.settings.environ()}
    return subprocess.Popen(
        [sys.executable, "-m", "dossier", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_serve_starts_workers_and_stops_them_on_a_signal(queued_dossier, how):  # noqa: F811
    port = free_port()
    serve = _serve(queued_dossier, port)
    try:
        wait_until(lambda: _up(port), "the web server", timeout_s=120)
        wait_until(lambda: queued_dossier.queue().live_workers() == 2, "two live workers", timeout_s=120)
        workers = _children(serve.pid)
        assert len(workers) == 2
        serve.send_signal(how)
        assert serve.wait(90) == 0
        wait_until(lambda: not any(_alive(p) for p in workers), "the workers to exit", timeout_s=60)
        assert queued_dossier.queue().live_workers() == 0
    finally:
        if serve.poll() is None:
            serve.kill()


def test_workers_stop_when_serve_is_killed(queued_dossier):  # noqa: F811
    port = free_port()
    serve = _serve(queued_dossier, port)
    try:
        wait_until(lambda: queued_dossier.queue().live_workers() == 2, "two live workers", timeout_s=120)
        workers = _children(serve.pid)
        serve.kill()
        serve.wait()
        wait_until(lambda: not any(_alive(p) for p in workers), "orphaned workers to exit", timeout_s=60)
    finally:
        if serve.poll() is None:
            serve.kill()

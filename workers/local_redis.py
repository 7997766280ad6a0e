"""Start a local Redis for the embedded profile when the configured one does not answer (``make run``)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from typing import Any
from urllib.parse import urlparse

import redis

from foundation.errors import DossierError
from foundation.filemodes import PRIVATE_UMASK, secure_home
from foundation.messages import msg
from pipeline.queue import QueueUnavailable, connect

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def ensure_local_redis(settings: Any, timeout_s: float = 20.0) -> str:
    """Make DOSSIER_REDIS_URL answer: nothing to do when it does; otherwise start ``redis-server``.

    Only a local URL is started here (data in ``DOSSIER_HOME/redis``, append-only file on,
    daemonised); a remote Redis that does not answer is an error to fix where it runs.
    Returns a one-line report.
    """
    return start_local_redis(settings, timeout_s)[1]


def start_local_redis(settings: Any, timeout_s: float = 20.0) -> tuple[bool, str]:
    """:func:`ensure_local_redis`, also saying whether a Redis was started here (True) or answered already."""
    url = settings.get("DOSSIER_REDIS_URL")
    try:
        connect(url, timeout_s=1.0).close()
        return False, str(msg("workers.redis.running", url=url))
    except QueueUnavailable:
        pass
    parsed = urlparse(url)
    if parsed.scheme != "redis" or (parsed.hostname or "127.0.0.1") not in _LOCAL_HOSTS:
        raise DossierError(msg("workers.redis.not_local", url=url))
    binary = shutil.which("redis-server")
    if binary is None:
        raise DossierError(msg("workers.redis.not_installed"))
    folder = settings.home / "redis"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    secure_home(settings.home)  # the queue's data: the running account's alone
    port = parsed.port or 6379
    subprocess.run(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--daemonize",
            "yes",
            "--appendonly",
            "yes",
            "--save",
            "",
            "--pidfile",
            str(folder / "redis.pid"),
            "--logfile",
            str(folder / "redis.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        umask=PRIVATE_UMASK,  # its append-only file, log and pid file are private too
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            connect(url, timeout_s=1.0).close()
            return True, str(msg("workers.redis.started", url=url, folder=folder))
        except QueueUnavailable:
            time.sleep(0.2)
    raise DossierError(msg("workers.redis.failed", log=folder / "redis.log"))


def stop_local_redis(settings: Any, timeout_s: float = 20.0) -> str:
    """Stop the Redis that :func:`start_local_redis` started for this data home; leave any other alone.

    Ours is the one whose process id is in ``DOSSIER_HOME/redis/redis.pid`` and answers at
    DOSSIER_REDIS_URL; it is shut down with its append-only file saved.  Returns a one-line report.
    """
    url = settings.get("DOSSIER_REDIS_URL")
    pidfile = settings.home / "redis" / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pid = None
    try:
        client = connect(url, timeout_s=1.0)
    except QueueUnavailable:
        return str(msg("workers.redis.not_running", url=url))
    try:
        if pid is None or int(client.info("server").get("process_id", -1)) != pid:
            return str(msg("workers.redis.not_ours", url=url))
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown()  # saves the append-only file, then exits (the connection drops)
    finally:
        client.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            connect(url, timeout_s=0.5).close()
        except QueueUnavailable:
            return str(msg("workers.redis.stopped", url=url))
        time.sleep(0.1)
    raise DossierError(msg("workers.redis.stop_failed", url=url, pid=pid))

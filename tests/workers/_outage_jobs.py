"""Job functions for the Redis outage tests (importable by a real worker process)."""

from __future__ import annotations

import os
import signal
import socket
import time


def kill_redis_mid_job(pid: int, port: int) -> str:
    """SIGKILL the test's redis-server from inside a running job, then finish: its bookkeeping must fail."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until nothing answers on its port any more
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except OSError:
            break
        time.sleep(0.05)
    return "done"

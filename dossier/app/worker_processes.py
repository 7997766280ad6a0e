"""``dossier worker`` processes started by this one: ``serve``'s supervised workers, ``ingest --wait``'s helpers.

They are OS processes running the ``dossier worker`` command (the worker runtime lives in
:mod:`workers`); nothing here imports it.  Each child gets SIGTERM (finish the job, exit) when
its parent dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from pipeline.children import die_with_parent

__all__ = ["RESTART_MAX_S", "STABLE_S", "WorkerProcesses"]

log = logging.getLogger("dossier.worker")


#: Longest wait before ``serve`` restarts a worker that keeps dying (the wait doubles from 1 s).
RESTART_MAX_S = 60.0
#: A worker that ran this long before it died is restarted after the shortest wait again.
STABLE_S = 60.0


class WorkerProcesses:
    """``n`` ``dossier worker`` child processes (for ``serve`` and ``ingest --wait``), stopped together.

    With ``supervise`` a thread restarts any that exits while they are not being stopped,
    after a wait that doubles (1 s … RESTART_MAX_S) while it keeps dying; each exit and restart
    is logged.  Each child gets SIGTERM (finish the job, exit) when its parent dies, even by SIGKILL.
    """

    def __init__(self, settings: Any, n: int, *, supervise: bool = False) -> None:
        self._env = {**os.environ, **settings.environ()}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.restarts = 0
        self.processes = [self._start() for _ in range(max(1, n))]
        self._supervisor: threading.Thread | None = None
        if supervise:
            # The supervisor thread forks the restarted workers; their parent-death signal is tied
            # to it, so it lives as long as they should.
            self._supervisor = threading.Thread(
                target=self._supervise, name="dossier-supervisor", daemon=True
            )
            self._supervisor.start()

    def _start(self) -> subprocess.Popen[bytes]:
        parent = os.getpid()
        return subprocess.Popen(
            [sys.executable, "-m", "dossier", "worker", "--quiet"],
            env=self._env,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us; we stop them in order
            preexec_fn=lambda: die_with_parent(parent, signal.SIGTERM),
        )

    def _supervise(self) -> None:
        started = [time.monotonic()] * len(self.processes)
        delay = [1.0] * len(self.processes)
        due: list[float | None] = [None] * len(self.processes)
        while not self._stopping.wait(0.5):
            for i, process in enumerate(list(self.processes)):
                status = process.poll()
                if status is None:
                    continue
                now = time.monotonic()
                if due[i] is None:
                    if now - started[i] >= STABLE_S:
                        delay[i] = 1.0
                    due[i] = now + delay[i]
                    log.warning(
                        "工作进程 %d 已退出（状态 %s），%g 秒后重启 / worker %d exited (status %s); restarting in %g s",
                        process.pid,
                        status,
                        delay[i],
                        process.pid,
                        status,
                        delay[i],
                    )
                    delay[i] = min(delay[i] * 2, RESTART_MAX_S)
                elif now >= due[i]:  # type: ignore[operator]
                    with self._lock:
                        if self._stopping.is_set():
                            return
                        self.processes[i] = self._start()
                        self.restarts += 1
                    started[i], due[i] = now, None
                    log.warning(
                        "已重启工作进程：%d / restarted the worker as %d",
                        self.processes[i].pid,
                        self.processes[i].pid,
                    )

    def alive(self) -> int:
        """How many are still running."""
        return sum(1 for p in self.processes if p.poll() is None)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask each to finish its job and exit; kill what does not within ``timeout_s``."""
        with self._lock:
            self._stopping.set()
        for p in self.processes:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if self._supervisor is not None:
            self._supervisor.join(5)

    def __enter__(self) -> WorkerProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

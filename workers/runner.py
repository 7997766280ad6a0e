"""``dossier worker``: an RQ worker for this data home's queue, plus its housekeeping thread.

Jobs run in the worker process itself (RQ's SimpleWorker), which keeps the records open and
a warm parser child between jobs; parsing and OCR happen in that child.  A thread refreshes
the worker's liveness key, moves retries whose wait is over back into the queue and, on one
worker at a time, reconciles the records with the queue (work left by a killed worker, or
stored while Redis was down, gets a job again) and deletes the files of expired exports.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import redis
from rq import SimpleWorker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.registry import ScheduledJobRegistry

from workers.jobs import WorkerContext, reconcile, set_context
from workers.queue import LIVENESS_TTL_S, JobQueue

log = logging.getLogger("dossier.worker")

#: Seconds between housekeeping rounds (liveness is refreshed every round).
TICK_S = LIVENESS_TTL_S / 3
#: Seconds between reconciles of the records with the queue.
RECONCILE_S = 20.0


def worker_name() -> str:
    """A name unique to this process (RQ and the liveness keys use it)."""
    return f"{socket.gethostname()}.{os.getpid()}"


class _Housekeeping(threading.Thread):
    def __init__(self, ctx: WorkerContext, queue: JobQueue) -> None:
        super().__init__(name="dossier-housekeeping", daemon=True)
        self.ctx = ctx
        self.queue = queue
        self.stopped = threading.Event()

    def run(self) -> None:
        rounds = 0
        every = max(1, round(RECONCILE_S / TICK_S))
        while not self.stopped.is_set():
            try:
                self.queue.mark_alive(self.ctx.name)
                self._due_retries()
                if rounds % every == 0 and self.queue.redis.set(
                    f"dossier:reconcile:{self.queue.name}", self.ctx.name, nx=True, ex=int(RECONCILE_S) - 1
                ):
                    found = reconcile(self.ctx)
                    if any(found.values()):
                        log.warning("重新排队 / re-queued waiting work: %s", found)
                    if self.ctx.purge_exports is not None:
                        self.ctx.purge_exports()  # expired export files go even when nobody exports
            except redis.RedisError as exc:  # Redis away: RQ says so too; try again next round
                log.warning("Redis 不可用，稍后重试 / Redis unavailable, retrying: %s", exc)
            except Exception:  # housekeeping must outlive a database hiccup
                log.exception("housekeeping round failed")
            rounds += 1
            self.stopped.wait(TICK_S)

    def _due_retries(self) -> None:
        registry = ScheduledJobRegistry(queue=self.queue.queue)
        for job_id in registry.get_jobs_to_schedule():
            with contextlib.suppress(InvalidJobOperation, NoSuchJobError):  # another worker moved it
                registry.requeue(job_id, at_front=True)


def run_worker(settings: Any, *, burst: bool = False, name: str | None = None) -> None:
    """Serve this data home's queue until stopped (SIGTERM/SIGINT: finish the current job, then exit).

    ``burst`` returns once the queue is empty.  Raises QueueUnavailable when Redis cannot be reached.
    """
    queue = JobQueue.from_settings(settings)
    name = name or worker_name()
    previous = _exit_on_signals()  # until RQ installs its own handlers: a stop while starting still cleans up
    ctx = None
    housekeeping = None
    try:
        ctx = WorkerContext.build(settings, queue, name)
        set_context(ctx)
        queue.mark_alive(name)
        reconcile(ctx)
        housekeeping = _Housekeeping(ctx, queue)
        housekeeping.start()
        worker = SimpleWorker([queue.queue], connection=queue.redis, name=name)
        worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
    finally:
        if housekeeping is not None:
            housekeeping.stopped.set()
            housekeeping.join(30)  # its last round must not say "alive" after we say "gone"
        with contextlib.suppress(Exception):
            queue.mark_gone(name)
        set_context(None)
        if ctx is not None:
            ctx.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _exit_on_signals() -> dict[int, Any]:
    """SIGTERM/SIGINT raise SystemExit (so ``finally`` blocks run); returns the handlers they replace."""

    def _exit(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, _exit)
    return previous


def _stop_with_parent() -> None:
    """In the child before exec: get SIGTERM (finish the job, exit) when the parent dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class WorkerProcesses:
    """``n`` ``dossier worker`` child processes (for ``serve`` and ``ingest --wait``), stopped together."""

    def __init__(self, settings: Any, n: int) -> None:
        env = {**os.environ, **settings.environ()}
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "dossier", "worker", "--quiet"],
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us; we stop them in order
                preexec_fn=_stop_with_parent,
            )
            for _ in range(max(1, n))
        ]

    def alive(self) -> int:
        """How many are still running."""
        return sum(1 for p in self.processes if p.poll() is None)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask each to finish its job and exit; kill what does not within ``timeout_s``."""
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

    def __enter__(self) -> WorkerProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


"""``dossier worker``: an RQ worker for this data home's queue, plus its housekeeping thread.

Jobs run in the worker process itself (:class:`workers._rqworker.DossierWorker`, an RQ
SimpleWorker), which keeps the records open and a warm parser child between jobs; parsing and
OCR happen in that child, which dies with the worker.  A thread refreshes the worker's
liveness key and the job it runs, moves retries whose wait is over back into the queue and, on
one worker at a time, reconciles the records with the queue (work left by a killed worker,
stored while Redis was down, or lost with Redis's data gets a job again) and deletes the files
of expired exports and, once a day, of documents that waited in the trash DOSSIER_TRASH_DAYS.
It also starts the notification round (:meth:`_Housekeeping._notifications`) in a thread of its own:
what has come due becomes in-app notifications and mails, and waiting mails are sent (an SMTP
server that hangs holds that thread, never the liveness rounds).
With ``DOSSIER_BACKUP_DIR`` set, another thread makes the scheduled backups
(:class:`dossier.app.backup.BackupScheduler`; one process at a time, by the backup folder's lock).

Redis may go away at any time, also before the worker starts: the worker waits for it (one
log line per outage) and carries on; when Redis comes back empty the housekeeping thread sees
a new epoch (:meth:`JobQueue.epoch`) and re-enqueues what waits at once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import threading
import time
from typing import Any

import redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError, StopRequested
from rq.registry import ScheduledJobRegistry

from dossier.app.backup import start_scheduler
from foundation.errors import ConfigError, DossierError
from foundation.messages import msg
from pipeline.queue import LIVENESS_TTL_S, JobQueue
from workers._outage import REDIS_DOWN, RedisOutage, backoff
from workers._rqworker import DossierWorker
from workers.jobs import WorkerContext, reconcile, set_context

log = logging.getLogger("dossier.worker")

#: Seconds between two purges of the expired trash (one worker per queue does it).
TRASH_PURGE_EVERY_S = 24 * 3600
#: Seconds between housekeeping rounds (liveness is refreshed every round).
TICK_S = LIVENESS_TTL_S / 3
#: Seconds between reconciles of the records with the queue.
RECONCILE_S = 20.0
#: Seconds between two retention runs (daily).
RETENTION_S = 24 * 3600
#: Seconds between two notification runs (one worker of the queue; sending waiting mails is every round's).
NOTIFY_S = 300
#: Seconds one round of mail sending may take at most (a slow SMTP server waits for the next round).
MAIL_BUDGET_S = 120.0


def worker_name() -> str:
    """A name unique to this process (RQ and the liveness keys use it)."""
    return f"{socket.gethostname()}.{os.getpid()}"


def redis_retry_max_s(settings: Any) -> float:
    """DOSSIER_REDIS_RETRY_MAX: the longest wait between two tries to reach Redis, in seconds."""
    raw = settings.get("DOSSIER_REDIS_RETRY_MAX")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ConfigError(msg("workers.redis_retry_max", raw=repr(raw)))
    return value


class _Housekeeping(threading.Thread):
    """Liveness, the running job, due retries and reconciles, in a thread beside RQ's work loop."""

    def __init__(self, ctx: WorkerContext, queue: JobQueue, outage: RedisOutage) -> None:
        super().__init__(name="dossier-housekeeping", daemon=True)
        self.ctx = ctx
        self.queue = queue
        self.outage = outage
        self.worker: DossierWorker | None = None
        self.stopped = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()  # the running job and its announcement change together
        self._running: str | None = None
        self._epoch: str | None = None
        self._soon = False  # reconcile at once: Redis came back empty
        self._now = False  # reconcile at once, lock or not: a job's bookkeeping was lost
        self._next = time.monotonic() + RECONCILE_S
        self._mail: threading.Thread | None = None  # the notifications' thread (SMTP may be slow)

    # -- called from the work loop (the main thread) ------------------------------------------

    def announce_job(self, job_id: str | None) -> None:
        """Say which job this worker runs (None: none), so a reconcile never enqueues it twice."""
        with self._lock:
            self._running = job_id
            with contextlib.suppress(*REDIS_DOWN):  # the next round says it again
                self.queue.mark_running(self.ctx.name, job_id)

    def reconcile_now(self) -> None:
        """A job's bookkeeping was lost: reconcile at once so its unfinished work gets a job again."""
        self._now = True
        self._wake.set()

    def wake(self) -> None:
        """Redis is back: look at it now rather than at the next tick."""
        self._wake.set()

    def stop(self) -> None:
        """End the thread after its current round."""
        self.stopped.set()
        self._wake.set()

    # -- the rounds ---------------------------------------------------------------------------

    def run(self) -> None:
        waits = backoff(min(self.outage.max_wait_s, TICK_S))
        while not self.stopped.is_set():
            wait = TICK_S
            try:
                wait = self._round()
                self.outage.succeeded()
                waits = backoff(min(self.outage.max_wait_s, TICK_S))
            except REDIS_DOWN as exc:
                self.outage.failed(exc)
                wait = next(waits)
            except redis.RedisError as exc:  # an error Redis answered with (not an outage): say it, go on
                log.warning("Redis 出错，稍后重试 / Redis error, retrying: %s", exc)
            except Exception:  # housekeeping must outlive a database hiccup
                log.exception("housekeeping round failed")
            self._wake.wait(wait)
            self._wake.clear()

    def _round(self) -> float:
        """One round; returns the seconds until the next."""
        self.queue.mark_alive(self.ctx.name)
        with self._lock:
            if self._running is not None:
                self.queue.mark_running(self.ctx.name, self._running)
        if self.worker is not None:
            self.worker.register_again()  # RQ's own registration, lost when Redis lost its data
        self._due_retries()
        token, age = self.queue.epoch()
        if self._epoch is not None and token != self._epoch:
            log.warning(
                "Redis 的数据已丢失（重启且未持久化）：按记录重新排队 / Redis lost its data (restarted without"
                " persistence): re-queuing what waits in the records"
            )
            self._soon = True
        settling = max(0.0, LIVENESS_TTL_S - age)
        now = time.monotonic()
        if self._epoch is None and settling:  # started on a fresh Redis: the start's reconcile was partial
            self._next = min(self._next, now + settling + 0.5)
        self._epoch = token
        if self._now or self._soon or now >= self._next:
            self._reconcile(settling, take_lock=not self._now)
            self._now = self._soon = False
            # while settling, come back when it is over: then held documents and OCR pages are seen to
            self._next = now + (settling + 0.5 if settling else RECONCILE_S)
        return min(TICK_S, max(0.1, self._next - now))

    def _reconcile(self, settling: float, *, take_lock: bool) -> None:
        # One worker at a time, for a round's length (while settling: until it is over, so the full
        # reconcile that follows is not locked out).  A lost job's reconcile does not wait for the lock.
        lock_s = max(1, math.ceil(settling)) if settling else int(RECONCILE_S) - 1
        got = self.queue.redis.set(f"dossier:reconcile:{self.queue.name}", self.ctx.name, nx=True, ex=lock_s)
        if take_lock and not got:
            return
        found = reconcile(self.ctx)
        if any(found.values()):
            log.warning("重新排队 / re-queued waiting work: %s", found)
        if self.ctx.purge_exports is not None and not settling:
            self.ctx.purge_exports()  # expired export files go even when nobody exports
        if not settling:
            self._daily_trash_purge()
        if self.ctx.retention is not None and not settling:
            self._daily_retention()
        if self.ctx.destructions is not None and not settling:
            self._approved_destructions()
        if getattr(self.ctx, "notifications", None) is not None and not settling:
            self._notifications()

    def _notifications(self) -> threading.Thread | None:
        """Notifications in a thread of their own (a hanging SMTP server must not stop the liveness rounds).

        Every few minutes (one worker of the queue: a Redis key that lives :data:`NOTIFY_S`) the run adds what
        has come due (in-app notifications, mails to send); every round the waiting mails whose time has come
        are sent.  A thread still busy from the last round is left to finish.  Returns the thread started.
        """
        if self._mail is not None and self._mail.is_alive():
            return None
        due = bool(
            self.queue.redis.set(f"dossier:notify:{self.queue.name}", self.ctx.name, nx=True, ex=NOTIFY_S)
        )
        self._mail = threading.Thread(
            target=self._notify_round, args=(due,), name="dossier-notifications", daemon=True
        )
        self._mail.start()
        return self._mail

    def _notify_round(self, due: bool) -> None:
        service = self.ctx.notifications
        try:
            if due:
                added = service.run()
                if any(added.values()):
                    log.info("通知 / notifications: %s", added)
            sent = service.send_pending(worker=self.ctx.name, budget_s=MAIL_BUDGET_S)
        except DossierError as exc:
            log.warning(
                "通知运行失败，下一轮再试 / the notification run failed, the next round tries again: %s",
                exc.message,
            )
            if due:
                with contextlib.suppress(*REDIS_DOWN, redis.RedisError):
                    self.queue.redis.delete(f"dossier:notify:{self.queue.name}")
            return
        except Exception:  # a database hiccup: the next round tries again
            log.exception("notification round failed")
            return
        if sent["sent"] or sent["failed"] or sent["retrying"]:
            log.warning(
                "邮件 / mail: %s sent, %s to retry, %s failed", sent["sent"], sent["retrying"], sent["failed"]
            )

    def _approved_destructions(self) -> None:
        """Carry out the destructions approved since the last round (all in one erasure; see ``Retention.approve``)."""
        try:
            if not self.ctx.destructions.pending():
                return
            done = self.ctx.destructions.finish_pending()
        except DossierError as exc:
            log.warning(
                "销毁未完成，下一轮再试 / a destruction did not finish, the next round tries again: %s",
                exc.message,
            )
            return
        if done:
            log.warning("已销毁 / destroyed: %s", done)

    def _daily_trash_purge(self) -> None:
        """Once a day (one worker of the queue): erase what has waited in the trash DOSSIER_TRASH_DAYS."""
        if self.ctx.purge_trash is None:
            return
        key = f"dossier:trash-purge:{self.queue.name}"
        if not self.queue.redis.set(key, self.ctx.name, nx=True, ex=TRASH_PURGE_EVERY_S):
            return
        try:
            report = self.ctx.purge_trash()
        except DossierError as exc:
            log.warning("回收站到期清除失败 / the trash purge failed: %s", exc.message)
            self.queue.redis.delete(key)  # the next round tries again
            return
        if report.get("purged"):
            log.warning("回收站到期清除 / trash purged after its period: %s", report["purged"])

    def _daily_retention(self) -> None:
        """The retention run, once a day on one worker (a Redis key that lives a day says it ran).

        The run is safe to repeat (Redis losing the key runs it again early) and to overlap with a
        ``dossier retention run``: each step is a conditional update of the records.
        """
        if not self.queue.redis.set(
            f"dossier:retention:{self.queue.name}", self.ctx.name, nx=True, ex=RETENTION_S
        ):
            return
        try:
            done = self.ctx.retention()
        except DossierError as exc:
            log.warning("保留规则运行失败 / the retention run failed: %s", exc.message)
            self.queue.redis.delete(f"dossier:retention:{self.queue.name}")  # the next round tries again
            return
        if any(done.values()):
            log.warning("保留规则 / retention: %s", {k: len(v) for k, v in done.items()})

    def _due_retries(self) -> None:
        registry = ScheduledJobRegistry(queue=self.queue.queue)
        for job_id in registry.get_jobs_to_schedule():
            with contextlib.suppress(InvalidJobOperation, NoSuchJobError):  # another worker moved it
                registry.requeue(job_id, at_front=True)


def run_worker(settings: Any, *, burst: bool = False, name: str | None = None) -> None:
    """Serve this data home's queue until stopped (SIGTERM/SIGINT: finish the current job, then exit).

    Redis outages are waited out, also one at start.  ``burst`` returns once the queue is empty
    (and raises QueueUnavailable when Redis cannot be reached at start: there is nothing to
    drain).  Raises DossierError when RQ's loop stopped on an unexpected error.
    """
    outage = RedisOutage(log, redis_retry_max_s(settings))
    queue = JobQueue.from_settings(settings, check=burst)
    name = name or worker_name()
    previous = _exit_on_signals()  # until RQ installs its own handlers: a stop while starting still cleans up
    ctx = None
    housekeeping = None
    scheduler = None
    try:
        ctx = WorkerContext.build(settings, queue, name)
        set_context(ctx)
        outage.wait_until_up(queue.redis)
        housekeeping = _Housekeeping(ctx, queue, outage)
        worker = DossierWorker(
            [queue.queue],
            connection=queue.redis,
            name=name,
            outage=outage,
            on_job=housekeeping.announce_job,
            on_lost_job=housekeeping.reconcile_now,
            on_reconnect=housekeeping.wake,
        )
        housekeeping.worker = worker
        worker.ride_out(_start, queue, ctx, name, burst)
        housekeeping.start()
        if ctx.scheduled_backup is not None and not burst:
            scheduler = start_scheduler(settings, ctx.scheduled_backup)
        worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
        if not burst and not worker.stop_asked:
            raise DossierError(msg("workers.stopped_unexpectedly"))
    except StopRequested:  # a stop signal while it waited for Redis
        pass
    finally:
        if scheduler is not None:
            scheduler.stop()
        if housekeeping is not None and housekeeping.is_alive():
            housekeeping.stop()
            housekeeping.join(30)  # its last round must not say "alive" after we say "gone"
        with contextlib.suppress(Exception):
            queue.mark_gone(name)
        set_context(None)
        if ctx is not None:
            ctx.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start(queue: JobQueue, ctx: WorkerContext, name: str, burst: bool) -> None:
    queue.mark_alive(name)
    reconcile(ctx, eager=burst)


def _exit_on_signals() -> dict[int, Any]:
    """SIGTERM/SIGINT raise SystemExit (so ``finally`` blocks run); returns the handlers they replace.

    A stop asked for is a clean stop (status 0), whether it comes while the worker starts, while
    it waits for Redis before RQ's handlers are in place, or later through RQ's handlers.
    """

    def _exit(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, _exit)
    return previous

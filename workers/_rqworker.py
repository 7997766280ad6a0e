"""RQ's SimpleWorker made to ride out Redis outages instead of quitting.

RQ 3.0's work loop quits on any exception that reaches it ("found an unhandled exception,
quitting"), and a Redis restart sends one from the heartbeat, a state update or a job's
bookkeeping.  Here every Redis call of the loop waits for Redis instead (with backoff and one
log line per outage, :mod:`workers._outage`) and then carries on where it was:

- a job whose bookkeeping failed (Redis went away while it ran) is left to the records: its
  work is done or it is not, and the reconciler re-enqueues what is not (the worker asks for a
  prompt reconcile); its stale entry in Redis, if Redis kept one, is deleted;
- a worker whose registration Redis lost (restarted without persistence) registers again;
- a stop signal during an outage stops the worker; stopping never waits for Redis.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rq import SimpleWorker, worker_registration
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus

from workers._outage import REDIS_DOWN, QuietRedisErrors, RedisOutage, StopWaiting

log = logging.getLogger("dossier.worker")
T = TypeVar("T")

_quiet = QuietRedisErrors()
logging.getLogger("rq.worker").addFilter(_quiet)  # RQ says it every retry; RedisOutage says it once


class DossierWorker(SimpleWorker):
    """A SimpleWorker (jobs run in this process) that waits for Redis rather than quitting.

    ``on_job(job_id | None)`` is told when a job starts and ends (the runner announces it, so
    the reconciler knows what runs even after Redis lost its registries); ``on_lost_job()``
    when a job's bookkeeping was lost; ``on_reconnect()`` after every outage.
    """

    def __init__(
        self,
        queues: Any,
        *,
        outage: RedisOutage,
        on_job: Callable[[str | None], None] = lambda _job_id: None,
        on_lost_job: Callable[[], None] = lambda: None,
        on_reconnect: Callable[[], None] = lambda: None,
        **kwargs: Any,
    ) -> None:
        self.outage = outage
        self.on_job = on_job
        self.on_lost_job = on_lost_job
        self.on_reconnect = on_reconnect
        #: True once a stop signal came (RQ only records it while a job runs).
        self.stop_asked = False
        super().__init__(queues, **kwargs)
        self.max_connection_wait_time = outage.max_wait_s  # RQ's own wait inside its dequeue loop

    # -- waiting for Redis ------------------------------------------------------------------------

    def _wait_for_redis(self, exc: BaseException) -> None:
        self.outage.failed(exc)
        try:
            self.outage.wait_until_up(self.connection, should_stop=lambda: self.stop_asked)
        except StopWaiting:
            raise StopRequested from None
        self.register_again()
        self.on_reconnect()

    def ride_out(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(...)``, waiting for Redis and calling again as long as Redis is away."""
        while True:
            try:
                return call(*args, **kwargs)
            except REDIS_DOWN as exc:
                self._wait_for_redis(exc)

    def register_again(self) -> None:
        """Register this worker again when Redis lost its registration (a restart without persistence)."""
        if self.birth_date is None:
            return
        with contextlib.suppress(*REDIS_DOWN):
            if self.connection.hexists(self.key, "birth"):
                return
            with self.connection.pipeline() as pipeline:
                pipeline.hset(self.key, mapping=self.serialize())
                pipeline.hset(self.key, "state", self.get_state())
                worker_registration.register(self, pipeline)
                pipeline.expire(self.key, self.worker_ttl + 60)
                pipeline.execute()

    # -- the work loop's Redis calls --------------------------------------------------------------

    def _set_ip_address(self, connection: Any) -> None:
        try:
            super()._set_ip_address(connection)
        except REDIS_DOWN:
            self.ip_address = "unknown"

    def register_birth(self) -> None:
        self.ride_out(super().register_birth)

    def subscribe(self) -> None:
        self.ride_out(super().subscribe)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is not None:
            return super().set_state(state, pipeline)
        return self.ride_out(super().set_state, state)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        return self.ride_out(super().heartbeat, timeout)

    def check_for_suspension(self, burst: bool) -> None:
        self.ride_out(super().check_for_suspension, burst)

    def run_maintenance_tasks(self) -> None:
        self.ride_out(super().run_maintenance_tasks)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run a job; when its bookkeeping fails because Redis went away, wait and go on."""
        self.on_job(job.id)
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            log.warning(
                "任务 %s：Redis 中断，队列中的记录未能更新；完成与否以记录库为准，未完成的会重新排队"
                " / job %s: Redis went away, so its queue bookkeeping was lost; the records say what is done,"
                " and what is not is queued again",
                job.id,
                job.id,
            )
            self._wait_for_redis(exc)
            with contextlib.suppress(Exception):  # best effort: a stale entry Redis may have kept
                job.delete()
            self.executions.clear()
            self.on_lost_job()
            self.set_state(WorkerStatus.IDLE)
        finally:
            self.on_job(None)

    # -- stopping never waits for Redis -----------------------------------------------------------

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)

    def _shutdown(self) -> None:
        if self.get_state() == WorkerStatus.BUSY:
            self._stop_requested = True  # finish the job, then stop
            with contextlib.suppress(*REDIS_DOWN):
                self.set_shutdown_requested_date()
        else:
            raise StopRequested()

    def register_death(self) -> None:
        with contextlib.suppress(*REDIS_DOWN):
            super().register_death()

    def unsubscribe(self) -> None:
        if self.pubsub_thread is not None and self.pubsub is not None:
            with contextlib.suppress(*REDIS_DOWN):
                self.pubsub.unsubscribe()
            self.pubsub_thread.stop()  # also when Redis is away: the thread must not outlive the worker
            self.pubsub_thread.join(timeout=1)

"""Riding out Redis outages: one log line when Redis goes, one when it is back, a backoff between tries.

A worker process has two threads that talk to Redis (RQ's work loop and the housekeeping
thread); both report to one :class:`RedisOutage`, so an outage is logged once per process
however many calls fail meanwhile.  Only connection-level failures count as an outage
(refused, reset, timed out, "loading the dataset"): any other Redis error is a bug to see.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import redis

#: Errors that mean "Redis is not there right now" (BusyLoadingError is a ConnectionError).
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)
#: First wait after a failed try; it doubles up to the configured maximum.
FIRST_WAIT_S = 0.5


def backoff(max_s: float, first_s: float = FIRST_WAIT_S) -> Iterator[float]:
    """Waits between tries: ``first_s``, doubling, never more than ``max_s``."""
    wait = min(first_s, max_s)
    while True:
        yield wait
        wait = min(wait * 2, max_s)


class RedisOutage:
    """This process's view of Redis being away, shared by its threads."""

    def __init__(self, log: logging.Logger, max_wait_s: float) -> None:
        self.log = log
        self.max_wait_s = max(0.1, float(max_wait_s))
        self.down_since: float | None = None
        #: Bumped at the end of every outage; a thread that remembers it can tell one happened.
        self.recoveries = 0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """True between a failed call and the next call that works."""
        return self.down_since is not None

    def failed(self, exc: BaseException) -> None:
        """Note a call that failed because Redis is away (logged on the first of an outage only)."""
        with self._lock:
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        first = min(FIRST_WAIT_S, self.max_wait_s)
        self.log.warning(
            "Redis 不可用（%s），%g 秒后重试（间隔逐步加长，最长 %g 秒）/ Redis unavailable (%s), retrying in %g s"
            " (backing off to every %g s)",
            _one_line(exc),
            first,
            self.max_wait_s,
            _one_line(exc),
            first,
            self.max_wait_s,
        )

    def succeeded(self) -> bool:
        """Note a call that worked; True (and one log line) when it ends an outage."""
        if self.down_since is None:  # the common case, without the lock
            return False
        with self._lock:
            if self.down_since is None:
                return False
            lasted = time.monotonic() - self.down_since
            self.down_since = None
            self.recoveries += 1
        self.log.warning("Redis 已恢复（中断约 %.0f 秒）/ Redis is back (after about %.0f s)", lasted, lasted)
        return True

    def wait_until_up(self, client: redis.Redis, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Block until ``client`` answers a PING, trying with backoff; returns at once when it does.

        ``should_stop`` is asked between tries: when it says so, :class:`StopWaiting` is raised.
        A signal handler that raises (SIGTERM) interrupts the wait as well.
        """
        waits = backoff(self.max_wait_s)
        while True:
            try:
                client.ping()
            except REDIS_DOWN as exc:
                self.failed(exc)
                if should_stop():
                    raise StopWaiting from None
                time.sleep(next(waits))
                continue
            self.succeeded()
            return


class StopWaiting(Exception):
    """The process was asked to stop while it waited for Redis."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


class QuietRedisErrors(logging.Filter):
    """Drops RQ's own "could not connect to Redis" lines (one per retry, every 2 s from its pubsub
    thread): :class:`RedisOutage` says it once per outage instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "could not connect to Redis instance" not in str(record.msg)

"""Sending queued index work to an external search engine, from every process that writes records.

With OpenSearch, index writes wait in the outbox (:mod:`index._outbox`) until they are sent.
:class:`IndexFlusher` is one daemon thread per open Dossier that sends them:

* right after each records commit (the session's ``after_commit`` pokes it), so many commits
  close together go out as one bulk request;
* every few seconds anyway, so work that waited while the engine was down (retried with
  backoff) drains by itself once it answers, in whichever process is running;
* once more when the process exits, so a short CLI run leaves nothing behind that it could send.

A search first waits (briefly) for the work this process queued before it, so a user sees
their own change on the next page.  Documents the engine refuses for good are handed to
``on_rejected`` (the records mark them failed with the reason).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from index import SearchBackend

__all__ = ["IndexFlusher"]

_log = logging.getLogger(__name__)

#: Seconds between flushes when nothing pokes the thread (due retries are sent then).
IDLE_S = 5.0


class IndexFlusher:
    """Flushes ``backend`` after commits and periodically; see the module docstring."""

    def __init__(
        self, backend: SearchBackend, on_rejected: Callable[[tuple[tuple[int, str], ...]], None]
    ) -> None:
        self._backend = backend
        self._on_rejected = on_rejected
        self._cond = threading.Condition()
        self._requested = 0  # pokes so far
        self._served = 0  # pokes covered by a finished flush
        self._thread: threading.Thread | None = None
        self._closed = False
        self.last_error: str | None = None
        # A forked child has none of the parent's threads: it starts its own flusher if it ever commits.
        ref = weakref.ref(self)

        def _in_child() -> None:
            flusher = ref()
            if flusher is not None:
                flusher._forget_thread()

        os.register_at_fork(after_in_child=_in_child)

    def _forget_thread(self) -> None:
        self._cond = threading.Condition()
        self._thread = None
        self._requested = self._served = 0

    def poke(self, *_args: Any) -> None:
        """Ask for a flush soon (a commit happened); starts the thread on first use."""
        with self._cond:
            if self._closed:
                return
            self._requested += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dossier-index-flusher", daemon=True)
                self._thread.start()
                atexit.register(self.close)
            self._cond.notify_all()

    def wait(self, timeout_s: float = 2.0) -> bool:
        """Wait until the work poked before this call was flushed (or tried); False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            target = self._requested
            while self._served < target and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def flush_now(self) -> None:
        """Flush in the calling thread (and report refused documents)."""
        report = self._backend.flush()
        self.last_error = report.error
        if report.rejected:
            try:
                self._on_rejected(report.rejected)
            except Exception:  # the records may be busy: the reasons stay in the outbox and in status
                _log.exception("could not mark refused documents failed")

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._requested == self._served and not self._closed:
                    self._cond.wait(IDLE_S)
                if self._closed:
                    return
                target = self._requested
            try:
                self.flush_now()
            except Exception:  # never let the thread die: the outbox keeps the work
                _log.exception("index flush failed")
            with self._cond:
                self._served = max(self._served, target)
                self._cond.notify_all()

    def close(self) -> None:
        """Stop the thread after one last flush (at exit, or when the Dossier is closed)."""
        with self._cond:
            if self._closed:
                return
            started = self._thread is not None
            self._closed = True
            self._cond.notify_all()
        if started:
            try:
                self.flush_now()
            except Exception:
                _log.warning("index work left queued at exit; it is sent by the next process", exc_info=True)

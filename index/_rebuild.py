"""A rebuild of an embedded index (SQLite FTS5 or Tantivy) that analyses in other processes while this one writes.

A whole rebuild (``dossier reindex``, a restore, ``bench/search.py``) spends most of its CPU on
analysis (:func:`index._sqlite_entry.entry_of`: normalisation, grams, jieba, pinyin, compression)
and the rest on the index's inserts, which only one writer can do.  So :class:`PooledRebuild` hands
each batch of at least :data:`PARALLEL_FROM` documents to a pool of worker processes and, while they
analyse it, writes the batch before (its entries computed): :meth:`PooledRebuild.add` writes the
previous batch in the caller's transaction, :meth:`finish` the last one.  The analysis is the
backend's: :func:`~index._sqlite_entry.entry_of` for SQLite, :func:`~index._tv_schema.fields_of` (the
streams without the stored blob and vocabulary, and the document's fields) for Tantivy.

The workers are spawned (never forked from a process with threads) and start with the segmenters'
user words of this process (:func:`index._analysis.user_words`), so an entry is the one this process
would compute.  When a pool cannot start or breaks (a worker killed), or a batch fails there (a
document the index refuses), that batch is analysed here instead: the rebuild goes on, and a refused
document raises here, where the caller expects it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from index._analysis import add_user_words, user_words
from index._sqlite_entry import entry_of
from index._types import IndexDocument

__all__ = ["PARALLEL_FROM", "PooledRebuild", "workers"]

_log = logging.getLogger(__name__)

#: Batches smaller than this are analysed in this process (a pool costs ~1-2 s to start).
PARALLEL_FROM = 100
#: At most this many analysing processes: past about three, the single writer is the limit.
MAX_WORKERS = 3


class _Writer(Protocol):
    """Where a rebuild's batches go: analysed there (``index``), or with their entries computed here."""

    def index(self, docs: Sequence[IndexDocument], *, connection: Any = None) -> None: ...

    def write_entries(self, rows: Sequence[tuple[IndexDocument, Any]], *, connection: Any = None) -> None: ...


def workers() -> int:
    """How many analysing processes a rebuild starts here: one per CPU up to three, none on one CPU.

    The writer waits on its batch's analysis part of the time, so on 2 CPUs two workers beat one
    (measured at 20,000 documents: 870 docs/s alone, 1,077 with one worker, 1,228 with two).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(MAX_WORKERS, cpus) if cpus > 1 else 0


def _start_worker(names: list[str]) -> None:
    add_user_words(names)


def _entries(analyse: Callable[[IndexDocument], Any], docs: Sequence[IndexDocument]) -> list[Any]:
    return [analyse(doc) for doc in docs]


_Batch = tuple[list[IndexDocument], list[Future[list[Any]]]]


class PooledRebuild:
    """A rebuild of an embedded index: batches indexed in place, in the callers' transactions.

    ``analyse`` (a module-level function, run in the workers) computes what ``backend.write_entries``
    takes beside each document.  ``resume_after`` is 0: a rebuild that stopped starts again (the
    index was emptied first).
    """

    resume_after = 0

    def __init__(
        self,
        backend: _Writer,
        *,
        processes: int | None = None,
        analyse: Callable[[IndexDocument], Any] = entry_of,
    ) -> None:
        self._backend = backend
        self._analyse = analyse
        self._processes = workers() if processes is None else processes
        self._pool: ProcessPoolExecutor | None = None
        self._pending: _Batch | None = None

    def add(self, docs: Sequence[IndexDocument], *, connection: Any = None) -> None:
        """Index a batch: handed to the workers when it is large enough (then the batch before is written now)."""
        docs = list(docs)
        futures = self._submit(docs) if len(docs) >= PARALLEL_FROM else None
        if futures is None:
            self._write_pending(connection)
            self._backend.index(docs, connection=connection)
            return
        previous, self._pending = self._pending, (docs, futures)
        if previous is not None:
            self._write(previous, connection)

    def finish(self) -> None:
        """Write the batch still being analysed and stop the workers."""
        try:
            self._write_pending(None)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (a batch still being analysed is dropped: the rebuild did not finish)."""
        self._pending = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _write_pending(self, connection: Any) -> None:
        previous, self._pending = self._pending, None
        if previous is not None:
            self._write(previous, connection)

    def _write(self, batch: _Batch, connection: Any) -> None:
        docs, futures = batch
        try:
            entries = [entry for future in futures for entry in future.result()]
        except Exception as exc:  # analysed again here: a refused document raises where its error belongs
            if isinstance(exc, BrokenProcessPool | CancelledError):  # a worker was killed: the rest here too
                self._give_up(exc)
            self._backend.index(docs, connection=connection)
            return
        self._backend.write_entries(list(zip(docs, entries, strict=True)), connection=connection)

    def _give_up(self, exc: BaseException) -> None:
        _log.warning("rebuild goes on analysing in this process: the worker pool broke (%s)", exc)
        self._processes = 0
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _submit(self, docs: list[IndexDocument]) -> list[Future[list[Any]]] | None:
        """The batch handed to the workers, a part each; None when there are none (none may start here, or
        the pool broke)."""
        if self._pool is None and self._processes > 0:
            self._pool = ProcessPoolExecutor(
                self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(user_words(),),
            )
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        if self._pool is None:
            return None
        step = -(-len(docs) // self._processes)
        try:  # the processes start with the first submission
            return [
                self._pool.submit(_entries, self._analyse, docs[i : i + step])
                for i in range(0, len(docs), step)
            ]
        except Exception as exc:  # a worker died earlier, or no process may start here (a daemonic one)
            self._give_up(exc)
            return None

"""A pool of parser processes with a hard time limit per file.

``ingest`` is pure but parsing untrusted files can hang in C code or crash a process,
so every parse runs in a child process.  A child that overruns its deadline is killed
and replaced; the file fails with :class:`ingest.ParseTimeout`'s message and the batch
goes on.  A child that dies (segfault, OOM kill) costs only the file it was parsing.
A child dies with the process that started it, also when that one is killed (SIGKILL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from foundation.messages import msg, stored
from ingest import ChildFile, IngestError, Limits, ParsedDocument
from pipeline.children import die_with_parent

#: Extra seconds granted past the soft limit (SIGALRM inside the child) before a hard kill.
KILL_GRACE_S = 5.0


Runner = Callable[[Any, Limits], Any]


@dataclass(frozen=True)
class ParseTask:
    """One file to parse: a path on disk, or bytes (uploads, children)."""

    key: Any
    filename: str
    path: str | None = None
    data: bytes | None = None
    depth: int = 0
    split: tuple[str, ...] = ()  # separator kinds to split a multi-document scan at ("qr", "blank")


@dataclass(frozen=True)
class ParsedTree:
    """A parsed file and, recursively, what became of the files inside it."""

    parsed: ParsedDocument
    children: tuple[ChildOutcome, ...] = ()


@dataclass(frozen=True)
class ChildOutcome:
    """An attachment or archive member: parsed, or failed with a reason."""

    file: ChildFile
    tree: ParsedTree | None = None
    error: str | None = None


@dataclass(frozen=True)
class ParseOutcome:
    """The result of one :class:`ParseTask`."""

    task: ParseTask
    tree: ParsedTree | None = None
    error: str | None = None
    seconds: float = 0.0


def parse_tree(task: ParseTask, limits: Limits) -> ParsedTree:
    """Parse a file and every child inside it (depth-limited by ``ingest``)."""
    import ingest

    if task.data is not None:
        parsed = ingest.parse_bytes(task.data, task.filename, limits=limits, depth=task.depth)
    else:
        assert task.path is not None
        parsed = ingest.parse_file(task.path, filename=task.filename, limits=limits, depth=task.depth)
    child_files = list(parsed.children)
    if task.split and parsed.format in _SPLITTABLE and parsed.needs_ocr and len(parsed.pages) > 1:
        parsed, parts = _split(task, parsed, limits)
        child_files.extend(parts)
    children = []
    for child in child_files:
        try:
            sub = parse_tree(
                ParseTask(key=None, filename=child.filename, data=child.data, depth=task.depth + 1), limits
            )
            children.append(ChildOutcome(child, tree=sub))
        except IngestError as exc:
            children.append(ChildOutcome(child, error=stored(exc)))
    return ParsedTree(parsed, tuple(children))


#: Formats a multi-document scan comes in.
_SPLITTABLE = ("pdf", "image")


def _split(task: ParseTask, parsed: ParsedDocument, limits: Limits) -> tuple[ParsedDocument, list[ChildFile]]:
    """Split a scanned stack at separator sheets: the parts become children, the stack keeps no pages."""
    import ingest

    data = task.data if task.data is not None else Path(task.path or "").read_bytes()
    try:
        separators = ingest.find_separators(data, task.filename, kinds=task.split, limits=limits)
        parts = ingest.split_at(data, task.filename, separators, limits=limits) if separators else []
    except IngestError:
        return parsed, []  # the stack was readable as a whole: keep it whole rather than fail it
    if len(parts) < 2:  # a stack of one document: nothing to split
        return parsed, []
    pages = ", ".join(str(s.page) for s in separators)
    note = msg("pipeline.split.note", count=len(parts), pages=pages).dumps()
    stack = dataclasses.replace(parsed, pages=(), warnings=(*parsed.warnings, note))
    return stack, [ChildFile(part.filename, part.data, "part") for part in parts]


def run_task(task: ParseTask, limits: Limits) -> ParseOutcome:
    """Parse one task in this process, turning any failure into a one-line reason."""
    import ingest

    started = time.monotonic()
    try:
        with ingest.time_limit(limits.parse_timeout_s):
            tree = parse_tree(task, limits)
        return ParseOutcome(task, tree=tree, seconds=time.monotonic() - started)
    except IngestError as exc:
        return ParseOutcome(task, error=stored(exc), seconds=time.monotonic() - started)
    except MemoryError:
        return ParseOutcome(task, error=msg("pipeline.parse.out_of_memory").dumps())
    except Exception as exc:  # job boundary: a parser bug must cost one file, not the batch
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        reason = msg("pipeline.parse.error", kind=type(exc).__name__, detail=detail).dumps()
        return ParseOutcome(task, error=reason, seconds=time.monotonic() - started)


def _warm_up() -> None:
    """Pay the parsers' import costs before the first deadline starts."""
    import ingest

    preload = getattr(ingest, "preload", None)
    if preload is not None:
        preload()
    with contextlib.suppress(ingest.IngestError):
        ingest.parse_bytes("预热 warm-up".encode(), "warm-up.txt")


def _child_main(
    conn: Connection, limits: Limits, runner: Runner, warm_up: Callable[[], None], parent_pid: int
) -> None:
    die_with_parent(
        parent_pid, signal.SIGKILL
    )  # a killed worker must not leave its ~300 MB child under PID 1
    warm_up()
    conn.send("ready")
    while True:
        try:
            task = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if task is None:
            return
        conn.send(runner(task, limits))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    task: ParseTask | None = None
    deadline: float = 0.0
    started: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class ParsePool:
    """``size`` child processes; :meth:`imap` yields outcomes as they finish (any order).

    By default the children parse files (:func:`run_task`); another module-level ``runner``
    (with its ``warm_up``) makes the same pool run other slow, untrusted work such as OCR.
    A task may carry ``timeout_s`` (otherwise the file parse limit applies) and ``timeout_message``, the
    (中文, English) name of what it does, for the timeout message.
    """

    def __init__(
        self,
        size: int,
        limits: Limits,
        runner: Runner | None = None,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        self.size = max(1, size)
        self.limits = limits
        self._runner = runner or run_task
        self._warm = warm_up or _warm_up
        self._ctx = mp.get_context("fork")
        self._workers: list[_Worker] = []

    def __enter__(self) -> ParsePool:
        self._workers = [self._spawn() for _ in range(self.size)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_child_main, args=(child, self.limits, self._runner, self._warm, os.getpid()), daemon=True
        )
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._spawn()

    def close(self) -> None:
        """Stop every child process."""
        for w in self._workers:
            with contextlib.suppress(OSError, BrokenPipeError):
                w.conn.send(None)
        for w in self._workers:
            w.process.join(2)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2)
            w.conn.close()
        self._workers = []

    def imap(self, tasks: Iterable[Any]) -> Iterator[Any]:
        """Run every task (a :class:`ParseTask`, or what the pool's ``runner`` takes); yield each outcome once,
        whatever happens to the processes (a crashed or timed-out task yields a :class:`ParseOutcome` with
        the reason)."""
        pending = deque(tasks)
        while pending or any(w.task is not None for w in self._workers):
            for w in self._workers:
                if w.ready and w.task is None and pending:
                    w.task = pending.popleft()
                    w.started = time.monotonic()
                    w.deadline = w.started + self._limit(w.task) + KILL_GRACE_S
                    w.conn.send(w.task)
            busy_deadlines = [w.deadline for w in self._workers if w.task is not None]
            timeout = max(0.0, min(busy_deadlines) - time.monotonic()) if busy_deadlines else 1.0
            for conn in wait([w.conn for w in self._workers], timeout=min(timeout, 1.0)):
                worker = next(w for w in self._workers if w.conn is conn)
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    task = worker.task
                    self._replace(worker)
                    if task is not None:
                        yield ParseOutcome(task, error=msg("pipeline.parse.crashed").dumps())
                    continue
                if message == "ready":
                    worker.ready = True
                    continue
                worker.task = None
                yield message
            now = time.monotonic()
            for w in list(self._workers):
                if w.task is not None and now > w.deadline:
                    task = w.task
                    self._replace(w)
                    limit = self._limit(task)
                    timeout_id: str = getattr(task, "timeout_message", "pipeline.parse.timeout")
                    yield ParseOutcome(
                        task,
                        error=msg(timeout_id, seconds=f"{limit:g}").dumps(),
                        seconds=now - w.started,
                    )

    def _limit(self, task: Any) -> float:
        return float(getattr(task, "timeout_s", None) or self.limits.parse_timeout_s)

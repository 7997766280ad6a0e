"""Child processes die with the process that started them, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from tests.workers.test_queue import queued_dossier, start_worker, stop_worker, wait_until  # noqa: F401  (fixture)
from tests.workers.test_serve import _alive, _children


def _parent(code: str) -> tuple[subprocess.Popen, list[int]]:
    """A Python process running ``code``, which prints the pids of the children it started, one line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.strip():
        proc.kill()
        raise AssertionError(proc.communicate()[1].decode()[-3000:])
    return proc, [int(pid) for pid in line.split()]


def _kill_and_expect_orphans_gone(proc: subprocess.Popen, children: list[int]) -> None:
    assert children and all(_alive(pid) for pid in children)
    proc.kill()
    proc.wait()
    try:
        wait_until(
            lambda: not any(_alive(pid) for pid in children), "the children to die with their parent", 30
        )
    finally:
        for pid in children:  # never leave one behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_parser_pool_children_die_when_their_process_is_killed():
    """GIVEN a process with a parser pool of two children WHEN it is SIGKILLed THEN both children exit too."""
    proc, children = _parent(
        """
        import time
        from ingest import Limits
        from pipeline.pool import ParsePool

        with ParsePool(2, Limits()) as pool:
            print(*[w.process.pid for w in pool._workers], flush=True)
            time.sleep(600)
        """
    )
    _kill_and_expect_orphans_gone(proc, children)


def test_a_page_render_child_dies_when_the_web_process_is_killed():
    """The render child's pre-exec hook (used by _render_in_child) ties it to its parent: SIGKILL both, none stays."""
    proc, children = _parent(
        """
        import functools, os, subprocess, sys, time
        from dossier.app._documents import _limit_child

        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)"],
            preexec_fn=functools.partial(_limit_child, os.getpid()),
        )
        print(child.pid, flush=True)
        time.sleep(600)
        """
    )
    _kill_and_expect_orphans_gone(proc, children)


def test_a_child_whose_parent_died_before_it_was_tied_exits_at_once():
    """The race: the parent dies between fork and prctl; the child sees a different parent and exits."""
    from pipeline.children import die_with_parent

    pid = os.fork()
    if pid == 0:  # the child: pretend it was forked by a parent that is gone by now
        try:
            die_with_parent(os.getppid() + 1_000_000)
        finally:
            os._exit(0)  # reached only if die_with_parent did not exit
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1


def test_a_killed_worker_leaves_no_parser_child(queued_dossier):  # noqa: F811
    """GIVEN a real `dossier worker` with its warm parser child WHEN the worker is SIGKILLed THEN the child
    (hundreds of MB once models are loaded) exits too instead of living on under PID 1."""
    worker = start_worker(queued_dossier)
    try:
        wait_until(lambda: bool(_children(worker.pid)), "the worker's parser child", 120)
        children = _children(worker.pid)
        _kill_and_expect_orphans_gone(worker, children)
    finally:
        stop_worker(worker)

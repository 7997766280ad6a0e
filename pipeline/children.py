"""Child processes die with the process that started them, even when it is killed with SIGKILL.

A worker's parser/OCR child holds hundreds of MB; a page-render child may be stuck in C code.
Neither may outlive its parent under PID 1.  The child asks the kernel for a signal when its
parent goes (``prctl(PR_SET_PDEATHSIG)``, Linux) right after fork, then checks that the parent
is still the one that forked it: had the parent died before the request, no signal would come.
The signal is tied to the parent *thread* that forked, so fork from a thread that lives as long
as the child should (the main thread, a supervisor thread, a thread blocked on the child).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

#: prctl option that sets the signal sent when the parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> None:
    """In a freshly forked child: get ``signum`` when the parent dies; exit now if it already has.

    ``parent_pid`` is the parent's pid taken *before* the fork.  Safe in a ``preexec_fn``
    (no allocation beyond ctypes, no locks).  Does nothing where prctl does not exist.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died between fork and prctl: nobody will signal us
        os._exit(1)


__all__ = ["die_with_parent"]

"""A wall-clock limit for one parse, via SIGALRM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from foundation.messages import msg
from ingest._errors import ParseTimeout


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`ParseTimeout` in the block if it runs longer than ``seconds``.

    Uses ``SIGALRM``/``setitimer``, so it only works in the main thread of a process on a
    POSIX system; elsewhere (threads, Windows) it does nothing.  Code stuck inside a C
    library may not see the signal promptly, so callers run each parse in a worker process
    and hard-kill it on timeout as a backstop.  ``seconds <= 0`` means no limit.
    """
    usable = (
        seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _expired(signum: int, frame: FrameType | None) -> None:
        raise ParseTimeout(msg("ingest.timeout", seconds=f"{seconds:g}"))

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""time_limit raises ParseTimeout in the main thread and does nothing elsewhere."""

from __future__ import annotations

import threading
import time

import pytest

import ingest


def test_times_out() -> None:
    """A block running past the limit raises ParseTimeout."""
    with pytest.raises(ingest.ParseTimeout), ingest.time_limit(0.2):
        time.sleep(2)


def test_no_timeout_and_timer_cleared() -> None:
    """A quick block finishes and leaves no alarm behind."""
    with ingest.time_limit(1):
        pass
    time.sleep(1.2)


def test_noop_outside_main_thread() -> None:
    """In a worker thread the limit is not enforced (documented), and nothing breaks."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with ingest.time_limit(0.01):
                time.sleep(0.05)
        except BaseException as exc:  # pragma: no cover - would be a failure
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert not errors

"""The parser pool: a hung or crashing parser costs one file, never the batch."""

from __future__ import annotations

import os
import signal
import time

import ingest
from foundation.messages import load_stored
from ingest import Limits
from pipeline.pool import ParsePool, ParseTask


def _hang_ignoring_alarm(*_args, **_kwargs):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # a C extension stuck in a loop ignores it too
    time.sleep(600)


def _crash(*_args, **_kwargs):
    os._exit(3)


def _tasks():
    return [
        ParseTask(key="bad", filename="x.txt", data="卡住".encode()),
        ParseTask(key="good", filename="ok.txt", data="正常的文本".encode()),
    ]


def test_a_hung_parser_is_killed_and_the_batch_goes_on(monkeypatch):
    """GIVEN a parser that ignores the soft alarm WHEN it overruns THEN it is killed and the next file parses."""
    real = ingest.parse_bytes

    def parse(data, filename, **kw):
        if filename == "x.txt":
            _hang_ignoring_alarm()
        return real(data, filename, **kw)

    monkeypatch.setattr(ingest, "parse_bytes", parse)  # inherited by the forked children
    monkeypatch.setattr("pipeline.pool.KILL_GRACE_S", 0.5)
    with ParsePool(1, Limits(parse_timeout_s=1)) as pool:
        outcomes = {o.task.key: o for o in pool.imap(_tasks())}
    assert _said(outcomes["bad"].error) == "解析超时（超过 1 秒） / parsing took longer than 1 s"
    assert outcomes["good"].error is None
    assert "正常的文本" in outcomes["good"].tree.parsed.text


def test_the_soft_limit_stops_a_slow_pure_python_parse(monkeypatch):
    """A parse that sleeps past the limit ends by the in-process alarm with the timeout reason."""
    real = ingest.parse_bytes

    def parse(data, filename, **kw):
        if filename == "x.txt":
            time.sleep(30)
        return real(data, filename, **kw)

    monkeypatch.setattr(ingest, "parse_bytes", parse)
    started = time.monotonic()
    with ParsePool(1, Limits(parse_timeout_s=1)) as pool:
        outcomes = {o.task.key: o for o in pool.imap(_tasks())}
    assert time.monotonic() - started < 25
    assert _said(outcomes["bad"].error) == "解析超时（超过 1 秒） / parsing took longer than 1 s"
    assert outcomes["good"].error is None


def test_a_crashing_parser_costs_only_its_file(monkeypatch):
    """A parser process that dies is replaced; its file fails with a reason, the others parse."""
    real = ingest.parse_bytes

    def parse(data, filename, **kw):
        if filename == "x.txt":
            _crash()
        return real(data, filename, **kw)

    monkeypatch.setattr(ingest, "parse_bytes", parse)
    with ParsePool(2, Limits(parse_timeout_s=10)) as pool:
        outcomes = {o.task.key: o for o in pool.imap(_tasks())}
    assert "crashed" in _said(outcomes["bad"].error)
    assert outcomes["good"].tree is not None


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")

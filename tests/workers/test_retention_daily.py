"""The workers' daily retention run: once a day, on one worker, against a real Redis."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from index import Principal
from records import Document
from tests.app.test_erasure import canary, write_note
from tests.workers.test_queue import queued_dossier  # noqa: F401  (the fixture)
from workers._outage import RedisOutage
from workers.runner import _Housekeeping


def test_the_daily_run_happens_once_a_day_on_one_worker(queued_dossier, tmp_path):  # noqa: F811
    """Two workers' housekeeping both reach the daily step; one runs the rules (the document is proposed), the
    other finds the day's key and does nothing; with the key gone (a day later) it runs again."""
    d = queued_dossier
    summary = d.ingest_paths([write_note(tmp_path / "in", canary())], wait=True)
    doc_id = summary["documents"][0]["id"]
    with d.sessions() as session:
        session.get(Document, doc_id).doc_date = "2001-01-01"
        session.commit()
    d.retention.add_rule(Principal("admin", "admin"), name="old notes", destroy_after="10y")
    queue = d.queue()
    queue.redis.delete(f"dossier:retention:{queue.name}")
    calls: list[str] = []

    def keeper(name: str) -> _Housekeeping:
        def run() -> dict:
            calls.append(name)
            return d.retention.run()

        ctx = SimpleNamespace(name=name, retention=run)
        return _Housekeeping(ctx, queue, RedisOutage(logging.getLogger("test"), 1.0))  # type: ignore[arg-type]

    first, second = keeper("w1"), keeper("w2")
    first._daily_retention()
    second._daily_retention()
    assert calls == ["w1"]
    assert [(r["document_id"], r["proposed_by"]) for r in d.retention.queue()] == [
        (doc_id, "retention:old notes")
    ]
    queue.redis.delete(f"dossier:retention:{queue.name}")
    second._daily_retention()
    assert calls == ["w1", "w2"] and len(d.retention.queue()) == 1

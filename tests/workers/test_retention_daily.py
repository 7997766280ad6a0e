"""The workers' daily retention run: once a day, on one worker, against a real Redis."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from dossier.app.audit import AuditFilter
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


def test_approved_destructions_go_to_the_workers_and_are_erased_together(queued_dossier, tmp_path):  # noqa: F811
    """With the queue reachable an approval only approves (a large home's erasure is no web request's work); the
    next housekeeping round carries out every approved destruction in ONE erasure, certificates for each."""
    d = queued_dossier
    boss, chief = Principal("boss", "manager"), Principal("chief", "manager")
    summary = d.ingest_paths(
        [write_note(tmp_path / "a", canary()), write_note(tmp_path / "b", canary(), name="other.txt")],
        wait=True,
    )
    rows = [d.retention.propose(doc["id"], boss) for doc in summary["documents"]]
    approved = [d.retention.approve(row["id"], chief) for row in rows]
    assert [row["status"] for row in approved] == ["approved", "approved"]
    assert d.retention.pending() == 2

    erasures: list[list[int]] = []
    import dossier.app._retention as retention_module

    real = retention_module.erase_documents

    def counted(resources, ids, **kwargs):  # type: ignore[no-untyped-def]
        erasures.append(sorted(ids))
        return real(resources, ids, **kwargs)

    retention_module.erase_documents = counted  # type: ignore[assignment]
    try:
        ctx = SimpleNamespace(name="w1", destructions=d.retention)
        _Housekeeping(ctx, d.queue(), RedisOutage(logging.getLogger("test"), 1.0))._approved_destructions()  # type: ignore[arg-type]
    finally:
        retention_module.erase_documents = real  # type: ignore[assignment]
    assert erasures == [sorted(doc["id"] for doc in summary["documents"])]
    assert [r["status"] for r in d.retention.queue(status="destroyed")] == ["destroyed", "destroyed"]
    assert d.retention.pending() == 0
    with d.sessions() as session:
        assert all(session.get(Document, doc["id"]) is None for doc in summary["documents"])
    certificates = d.audit.events(Principal("admin", "admin"), AuditFilter(actions=("destruction",)))[
        "events"
    ]
    assert sorted(e["target_id"] for e in certificates) == sorted(doc["id"] for doc in summary["documents"])

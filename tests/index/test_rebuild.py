"""The embedded index's rebuild with analysing worker processes gives the index an in-process rebuild gives."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from index import IndexDocument, Principal, SearchRequest, SqliteBackend, _rebuild, add_user_words
from index._common import InvalidDocument
from index._rebuild import PooledRebuild
from index._sqlite_entry import unpack

TABLES = {
    "search_body": "id",
    "search_doc": "id",
    "search_fts_docsize": "id",
    "search_doc_customer": "doc_id, name",
    "search_doc_entity": "kind, value, doc_id",
}
#: Tables compared by their values alone (row ids are the order words were first written in).
WORDS = {"search_vocab": "term"}


def _docs(n: int) -> list[IndexDocument]:
    kinds = ("销售合同", "报价单", "PowerEdge R750 报价", "臺灣分公司 iPhone15Pro 采购", "拜访记录")
    return [
        IndexDocument(
            id=i,
            title=f"{kinds[i % len(kinds)]} 第{i}号",
            text=f"甲方：杭州澄湖星链科技有限公司{i % 7}\n{kinds[i % len(kinds)]}，金额 ¥{i * 1000:,}，"
            f"联系电话 189-6928-{1000 + i}，ThinkPad X1 Carbon 与 CRMSaaS 服务。" * (1 + i % 4),
            doc_type=("contract", "quote", "note")[i % 3],
            confidentiality="internal",
            customers=(f"澄湖星链{i % 5}",),
            tags=("重点",) if i % 2 else (),
            entities=(("phone", f"1896928{1000 + i}"),),
        )
        for i in range(1, n + 1)
    ]


def _build(path: Path, docs: list[IndexDocument], processes: int, batch: int = 40) -> SqliteBackend:
    backend = SqliteBackend(create_engine(f"sqlite:///{path}"))
    backend.ensure_schema()
    rebuild = backend.start_rebuild()
    assert isinstance(rebuild, PooledRebuild)
    rebuild._processes = processes
    for start in range(0, len(docs), batch):
        rebuild.add(docs[start : start + batch])
    rebuild.finish()
    return backend


def _tables(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall() for t, key in TABLES.items()}
        rows.update(
            {t: conn.execute(f"SELECT {col} FROM {t} ORDER BY {col}").fetchall() for t, col in WORDS.items()}
        )
        return rows


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of any size go to the workers."""
    monkeypatch.setattr(_rebuild, "PARALLEL_FROM", 1)


def test_workers_build_the_index_an_in_process_rebuild_builds(tmp_path, small_batches):
    """GIVEN 200 documents WHEN rebuilt with two analysing processes and with none THEN every table is the
    same, row for row, and a search gives the same hits."""
    docs = _docs(200)
    pooled = _build(tmp_path / "pooled.db", docs, processes=2)
    local = _build(tmp_path / "local.db", docs, processes=0)
    assert _tables(tmp_path / "pooled.db") == _tables(tmp_path / "local.db")
    for query in ("合同", '"PowerEdge R750"', "iphone", "台湾", "18969281010"):
        found = [
            [h.id for h in b.search(SearchRequest(query, limit=50), Principal.system()).hits]
            for b in (pooled, local)
        ]
        assert found[0] == found[1] and found[0], query


def test_workers_segment_with_the_user_words_of_the_rebuilding_process(tmp_path, small_batches):
    """GIVEN a user word this process learnt (a customer name) WHEN the workers analyse THEN it is one word."""
    add_user_words(["澄湖星链科技"])
    _build(tmp_path / "x.db", _docs(10), processes=1, batch=5)
    with sqlite3.connect(tmp_path / "x.db") as conn:
        blobs = [row[0] for row in conn.execute("SELECT content FROM search_body")]
    assert blobs and all("澄湖星链科技" in unpack(blob)[1].split() for blob in blobs)


def test_a_refused_document_raises_as_in_process(tmp_path, small_batches):
    """GIVEN a batch with a document the index refuses WHEN the workers analyse it THEN the rebuild raises
    the index's own error, as an in-process rebuild does."""
    docs = _docs(6)
    bad = IndexDocument(id=7, title="坏", text="坏", doc_type="note", confidentiality="nobody")
    backend = SqliteBackend(create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    backend.ensure_schema()
    rebuild = backend.start_rebuild()
    assert isinstance(rebuild, PooledRebuild)
    rebuild._processes = 1
    rebuild.add(docs)
    with pytest.raises(InvalidDocument):
        rebuild.add([bad])
        rebuild.finish()
    rebuild.close()


def test_a_killed_worker_costs_speed_not_documents(tmp_path, small_batches):
    """GIVEN a rebuild whose worker is killed (kill -9) WHEN it goes on THEN every document is indexed, the
    same as an in-process rebuild."""
    docs = _docs(120)
    backend = SqliteBackend(create_engine(f"sqlite:///{tmp_path / 'killed.db'}"))
    backend.ensure_schema()
    rebuild = backend.start_rebuild()
    assert isinstance(rebuild, PooledRebuild)
    rebuild._processes = 1
    rebuild.add(docs[:40])
    pool = rebuild._pool
    assert pool is not None
    for pid in list(pool._processes):  # the pool's worker processes
        os.kill(pid, signal.SIGKILL)
    rebuild.add(docs[40:80])
    rebuild.add(docs[80:])
    rebuild.finish()
    _build(tmp_path / "local.db", docs, processes=0)
    assert backend.count() == len(docs)
    assert _tables(tmp_path / "killed.db") == _tables(tmp_path / "local.db")


def _rebuild_in_daemon(path: str, queue) -> None:
    _rebuild.PARALLEL_FROM = 1
    backend = _build(Path(path), _docs(12), processes=1, batch=4)
    queue.put(backend.count())


def test_a_process_that_may_not_start_workers_rebuilds_by_itself(tmp_path):
    """GIVEN a daemonic process (which may not start processes) WHEN it rebuilds THEN it analyses in
    itself and indexes every document."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_rebuild_in_daemon, args=(str(tmp_path / "x.db"), queue), daemon=True)
    child.start()
    child.join(60)
    assert child.exitcode == 0 and queue.get(timeout=5) == 12

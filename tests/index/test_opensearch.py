"""What only the OpenSearch backend has: the template and alias, the outbox, bulk errors, rebuilds, deep pages.

The search behaviour itself is the contract every backend meets (the other modules here run
against both); these tests need a node (``DOSSIER_OPENSEARCH_URL``; CI always has one).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from foundation.messages import load_stored
from index import IndexDocument, OpenSearchBackend, Principal, SearchRequest, SearchUnavailable
from index._outbox import OutboxRow
from tests import _opensearch

pytestmark = pytest.mark.opensearch

ADMIN = Principal("admin", "admin")


@pytest.fixture
def url() -> str:
    return _opensearch.cluster_url()


@pytest.fixture
def os_backend(engine: sa.Engine, url: str) -> Iterator[OpenSearchBackend]:
    b = _opensearch.make_backend(engine, url)
    try:
        yield b
    finally:
        _opensearch.drop(url, b.alias)


def _doc(i: int, text: str = "销售合同", **fields) -> IndexDocument:  # type: ignore[no-untyped-def]
    fields.setdefault("title", f"文档{i}")
    fields.setdefault("created_at", f"2024-01-01T00:00:{i % 60:02d}")
    return IndexDocument(id=i, text=text, **fields)


def _ids(b: OpenSearchBackend, query: str, **req) -> list[int]:  # type: ignore[no-untyped-def]
    return sorted(h.id for h in b.search(SearchRequest(query, limit=1000, **req), ADMIN).hits)


def _physical(url: str, alias: str) -> list[str]:
    found = requests.get(f"{url}/_alias/{alias}", timeout=10).json()
    return sorted(found)


def test_template_alias_and_strict_mapping(os_backend, url):
    """One physical index behind the alias, made from a template whose mapping is strict and versioned."""
    alias = os_backend.alias
    indexes = _physical(url, alias)
    assert len(indexes) == 1 and indexes[0].startswith(f"{alias}-v")
    template = requests.get(f"{url}/_index_template/{alias}", timeout=10).json()["index_templates"][0]
    mapping = template["index_template"]["template"]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["grams"]["analyzer"] == "whitespace"
    assert mapping["properties"]["entity"]["type"] == "keyword"
    live = requests.get(f"{url}/{alias}/_mapping", timeout=10).json()[indexes[0]]["mappings"]
    assert live["_meta"]["schema"] and live["dynamic"] == "strict"
    refused = requests.post(f"{url}/{alias}/_doc", json={"surprise": 1}, timeout=10)
    assert refused.status_code == 400 and "strict" in refused.text
    assert not os_backend.needs_reindex()


def test_an_index_of_another_mapping_version_needs_a_reindex(os_backend, url):
    """An alias pointing at an index whose _meta names another schema asks for a reindex."""
    index = _physical(url, os_backend.alias)[0]
    r = requests.put(f"{url}/{index}/_mapping", json={"_meta": {"schema": "0", "analysis": "0"}}, timeout=10)
    assert r.ok, r.text
    assert os_backend.needs_reindex()
    os_backend.clear()
    assert not os_backend.needs_reindex()


def test_writes_wait_in_the_outbox_until_the_commit_and_the_flush(os_backend, engine):
    """A write with a connection is sent only after its transaction committed, when flushed."""
    with engine.begin() as conn:
        os_backend.index([_doc(1)], connection=conn)
    assert os_backend.outbox.pending() == 1
    assert _ids(os_backend, "合同") == []
    report = os_backend.flush()
    assert report.sent == 1 and report.error is None
    assert os_backend.outbox.pending() == 0
    assert _ids(os_backend, "合同") == [1]


def test_a_refused_document_is_reported_and_the_rest_go_in(os_backend, engine):
    """A document the cluster refuses (a customer id out of range) comes back with the reason; the batch goes in."""
    with engine.begin() as conn:
        os_backend.index([_doc(1), _doc(2, customer_ids=(2**70,)), _doc(3)], connection=conn)
    report = os_backend.flush()
    assert [doc_id for doc_id, _ in report.rejected] == [2]
    assert "OpenSearch" in str(load_stored(report.rejected[0][1]) or report.rejected[0][1])
    assert _ids(os_backend, "合同") == [1, 3]
    assert os_backend.outbox.pending() == 0  # refused rows are not retried…
    assert [d for d, _ in os_backend.outbox.failures()] == [2]  # …but kept with their reason
    assert os_backend.status()["failures"][0]["document_id"] == 2
    os_backend.index([_doc(2)])  # a corrected document replaces the refused one
    assert _ids(os_backend, "合同") == [1, 2, 3]
    assert os_backend.outbox.failures() == []


def test_an_older_write_never_overwrites_a_newer_one(os_backend, engine):
    """The outbox sequence is the external version: a flush racing with an older row loses."""
    with engine.begin() as conn:
        os_backend.index([_doc(1, "旧的文本")], connection=conn)
    old_row = os_backend.outbox.due(10)[0]
    with engine.begin() as conn:
        os_backend.index([_doc(1, "新的文本")], connection=conn)
    os_backend.flush()
    assert _ids(os_backend, "新的") == [1]
    done, retry, refused = os_backend._send([old_row], None)  # a slow second flusher sends the old row late
    assert done == [old_row] and not retry and not refused  # taken as superseded, not an error
    assert _ids(os_backend, "新的") == [1] and _ids(os_backend, "旧的") == []


def test_rebuild_swaps_the_alias_and_keeps_changes_made_meanwhile(os_backend, engine, url):
    """A rebuild fills a new index while search goes on; writes and deletes made meanwhile survive the swap."""
    os_backend.index([_doc(1), _doc(2), _doc(3)])
    before = _physical(url, os_backend.alias)
    rebuild = os_backend.start_rebuild()
    assert rebuild.resume_after == 0
    rebuild.add([_doc(1), _doc(2)])  # read from the records before the changes below
    with engine.begin() as conn:  # meanwhile: document 2 changes, document 3 is deleted, 4 is new
        os_backend.index([_doc(2, "修改后的合同"), _doc(4, "新增合同")], connection=conn)
        os_backend.delete([3], connection=conn)
    os_backend.flush()
    assert _ids(os_backend, "合同") == [1, 2, 4]  # the live index saw every change at once
    rebuild.add([_doc(3), _doc(4, "新增合同")])  # a stale read of 3 (deleted meanwhile) and of 4
    rebuild.finish()
    after = _physical(url, os_backend.alias)
    assert after != before and len(after) == 1 and after[0] == rebuild.index
    assert requests.head(f"{url}/{before[0]}", timeout=10).status_code == 404  # the old index is gone
    assert _ids(os_backend, "合同") == [1, 2, 4]
    assert _ids(os_backend, "修改后") == [2]  # the batch's older copy of 2 did not overwrite the change


def test_a_crashed_rebuild_resumes_where_it_stopped(os_backend, engine, url):
    """The rebuild's target and progress live in the records: a new process continues it."""
    os_backend.index([_doc(i) for i in range(1, 6)])
    first = os_backend.start_rebuild()
    first.add([_doc(1), _doc(2)])
    # The process dies here.  Another one opens the same records and cluster:
    again = OpenSearchBackend(engine, url, index_name=os_backend.alias, refresh="true")
    resumed = again.start_rebuild()
    assert resumed.index == first.index and resumed.resume_after == 2
    resumed.add([_doc(3), _doc(4), _doc(5)])
    resumed.finish()
    assert _ids(again, "合同") == [1, 2, 3, 4, 5]
    fresh = again.start_rebuild(restart=True)  # --restart drops an unfinished one and begins anew
    assert fresh.resume_after == 0
    fresh.finish()
    assert _ids(again, "合同") == []


def test_deep_result_sets_are_walked_with_a_point_in_time(os_backend):
    """More than 10,000 hits: iter_ids yields them all in order, and a page past 10,000 is served."""
    n = 10_050
    rebuild = os_backend.start_rebuild()
    docs = [
        _doc(i, "报价", created_at=f"2024-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}")
        for i in range(1, n + 1)
    ]
    for start in range(0, n, 2000):
        rebuild.add(docs[start : start + 2000])
    rebuild.finish()
    everything = list(os_backend.iter_ids(SearchRequest(""), ADMIN, batch=3000))
    assert len(everything) == n and len(set(everything)) == n
    assert everything[:3] == [n, n - 1, n - 2]  # newest first, as every search without words
    ranked = list(os_backend.iter_ids(SearchRequest("报价"), ADMIN, batch=3000))
    deep = os_backend.search(SearchRequest("报价", offset=10_010, limit=20, facets=False), ADMIN)
    assert deep.total == n
    assert [h.id for h in deep.hits] == ranked[10_010:10_030]
    assert all("<mark>报价</mark>" in h.snippet for h in deep.hits)  # the deep page has its texts too
    viewer = Principal("v", "viewer")
    assert list(os_backend.iter_ids(SearchRequest(""), viewer)) == []  # permissions hold in the walk too


def test_an_unreachable_cluster_keeps_the_work_and_search_says_so(engine):
    """With nothing listening, writes stay queued with a reason and a retry time; search is a 503."""
    backend = OpenSearchBackend(
        engine, f"http://127.0.0.1:{_opensearch.free_port()}", index_name="gone", timeout_s=2
    )
    with engine.begin() as conn:
        backend.index([_doc(1)], connection=conn)
    report = backend.flush()
    assert report.sent == 0 and report.error and "OpenSearch" in report.error
    row: OutboxRow = backend.outbox.due(10, now=10**12)[0]
    assert row.attempts == 1 and backend.outbox.due(10) == []  # waits before the next try
    with pytest.raises(SearchUnavailable) as info:
        backend.search(SearchRequest("合同"), ADMIN)
    assert info.value.status == 503 and "不可用" in info.value.message
    status = backend.status()
    assert status["pending"] == 1 and status["error"]
    assert not backend.needs_reindex()  # down is no reason to rebuild anything

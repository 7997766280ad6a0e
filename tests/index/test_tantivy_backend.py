"""The Tantivy backend (index/_tantivy.py) answers as the embedded SQLite backend does.

Both backends index the same generated and dev documents (with customers' fields, superseded
versions, activities and archived documents); for four roles every query of the benchmark's mix,
the dev queries, awkward ones and filtered requests must give the same match sets, totals, facets,
lifecycle counts, snippets and (where all hits fit one page, or by date) the same first pages.
Then the write path: deletes, another process's view of a write, and a writer killed with
``kill -9`` before or in the middle of its index commit, recovered from the outbox.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import create_engine

from index import (
    ACTIVITY_ID_BASE,
    IndexDocument,
    Principal,
    SearchRequest,
    TantivyBackend,
    _rebuild,
    _tantivy,
    activity_entry_id,
    open_backend,
)

tantivy = pytest.importorskip("tantivy")

ROOT = Path(__file__).resolve().parents[2]

PRINCIPALS = {
    "admin": Principal.system(),
    "sales": Principal("s", "sales"),
    "owner": Principal("o", "sales", owned_customer_ids=frozenset({2, 5})),
    "finance": Principal("f", "finance"),
}

AWKWARD = (
    "合同*",
    "光华*",
    '"合同金额"',
    "guanghua",
    "ghwl",
    "報價單",
    "合同 -报价",
    "发票 OR 报价 OR 合同",
    '"未闭合的引号',
    "😀 合同",
    "的" * 300,
    "2024年5月12日",
    "-合同",
    "type:contract",
    "合同 -type:quote",
    "is:archived 合同",
    "version:all 合同",
    "is:scan",
    "-is:scan 报价",
)

INDUSTRIES = ("制造业", "物流运输", "软件和信息技术服务业")
REGIONS = ("浙江省", "上海市", "广东省")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _documents(search: ModuleType) -> list[IndexDocument]:
    truths, customers, _ = search.load_corpus(search.CORPUS)
    rng = random.Random(7)
    docs = []
    for i in range(500):
        d = search.make_doc(i, truths, customers, rng)
        k = i % 3
        docs.append(
            replace(
                d,
                customer_ids=tuple(i % 7 + 1 for _ in d.customers[:1]),
                access_customer_ids=(i % 7 + 1,),
                lifecycle="archived" if i % 11 == 0 else "active",
                customer_aliases=tuple(f"别名{i % 5}" for _ in d.customers[:1]),
                customer_types=(("潜在客户", "现有客户", "流失客户")[k],),
                industries=(INDUSTRIES[k],),
                regions=(REGIONS[i % 2],),
                customer_stages=(("初步接触", "商务谈判", "成交")[k],),
                customer_importance=("ABC"[i % 3],),
                customer_tags=(("重点", "华东")[i % 2],),
            )
        )
    # superseded versions of documents 1..30 and activities on documents 1..20 (and on none)
    docs += [replace(docs[i], id=-(5000 + i), version=1, document_id=docs[i].id) for i in range(30)]
    docs += [
        IndexDocument(
            id=activity_entry_id(i + 1),
            title=f"拜访记录 {i}",
            text=f"与客户讨论合同续签与报价 {i}",
            doc_type="activity" if i % 2 else "comment",
            activity=i + 1,
            document_id=docs[i].id if i < 20 else 0,
            confidentiality=docs[i].confidentiality,
            customers=docs[i].customers,
            customer_ids=docs[i].customer_ids,
            access_customer_ids=docs[i].access_customer_ids,
            created_at=docs[i].created_at,
        )
        for i in range(25)
    ]
    dev, _ = search.dev_documents(search.CORPUS, {})
    docs += [replace(d, id=d.id + 1_000_000) for d in dev]
    return docs


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    search = _load("bench_search_for_tantivy", ROOT / "bench" / "search.py")
    _, customers, queries = search.load_corpus(search.CORPUS)
    docs = _documents(search)
    home = tmp_path_factory.mktemp("tantivy-pair")
    embedded = open_backend(create_engine(f"sqlite:///{home / 'embedded.db'}"))
    embedded.index(docs)
    tv = open_backend(create_engine(f"sqlite:///{home / 'tv.db'}"), "tantivy")
    assert isinstance(tv, TantivyBackend)
    tv.index(docs)
    truths, _, _ = search.load_corpus(search.CORPUS)
    requests = [
        r
        for cat, r in search.query_set(queries, customers, truths)
        if cat in ("corpus", "common", "phrase", "syntax", "field")
    ]
    requests += [SearchRequest(q["q"]) for q in queries[:60]]
    requests += [SearchRequest(q) for q in AWKWARD]
    names = sorted({n for d in docs for n in d.customers})
    yield embedded, tv, requests, docs, names
    tv.close()


def _ids(backend, request, principal):
    return set(backend.iter_ids(request, principal))


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_every_query_finds_the_same_entries_and_totals(pair, role):
    embedded, tv, requests, _, _ = pair
    principal = PRINCIPALS[role]
    differ = []
    found = 0
    for req in requests:
        mine, theirs = _ids(embedded, req, principal), _ids(tv, req, principal)
        found += bool(mine)
        total_a = embedded.search(replace(req, limit=1, facets=False), principal).total
        total_b = tv.search(replace(req, limit=1, facets=False), principal).total
        if mine != theirs or total_a != total_b:
            differ.append((req.query[:40], len(mine), len(theirs), total_a, total_b))
    assert differ == []
    assert found > len(requests) * 0.7


def _filtered(names: list[str]) -> list[SearchRequest]:
    return [
        SearchRequest("", doc_types=("contract", "quote")),
        SearchRequest("合同", tags=("重要",)),
        SearchRequest("", customers=(names[0],)),
        SearchRequest("", customers=(names[1][:2],)),
        SearchRequest("", customers=("别名3",)),
        SearchRequest("", customer_types=("潜在",)),
        SearchRequest("报价", industries=("物流",)),
        SearchRequest("", regions=("浙江",)),
        SearchRequest("", years=("2021", "2023")),
        SearchRequest("", date_from="2022-03", date_to="2023-06-15"),
        SearchRequest("合同", date_to="2021"),
        SearchRequest("", customer_ids=(2, 3)),
        SearchRequest("", stages=("成交",), importance=("A",)),
        SearchRequest("", customer_tags=("重点",)),
        SearchRequest("", formats=("pdf", "word")),
        SearchRequest("", scans_only=True),
        SearchRequest("", entities=(("date", "2024-03"),)),
        SearchRequest("合同", archived="include"),
        SearchRequest("", archived="only"),
        SearchRequest("合同", versions="all"),
        SearchRequest("合同", activities="only"),
        SearchRequest("", activities="exclude", versions="all"),
        SearchRequest("报价", activities="exclude"),
        SearchRequest(f"customer:{names[2]} -type:contract"),
        SearchRequest("industry:物流 region:上海"),
        SearchRequest("year:2022 -tag:重要"),
    ]


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_the_query_that_counts_facets_matches_what_the_ranked_query_matches(pair, role):
    """Facets are counted by the query without the clauses that only add score (tiers, a Chinese word's words
    clause): it must match exactly the entries the ranked query matches."""
    import tantivy

    from index._query import parse_request

    _, tv, requests, _, names = pair
    principal = PRINCIPALS[role]
    searcher = tv._searcher()
    exact = tv._exact_customers(searcher)
    differ = []
    for req in [*requests, *_filtered(names)]:
        parsed = parse_request(req)
        scored = tantivy.Query.boolean_query(tv._queries.build(parsed, req, principal, exact, tiers=True))
        counting = tv._counting(searcher, req, principal, parsed)
        a = searcher.search(scored, limit=1, count=True).count
        b = searcher.search(counting, limit=1, count=True).count
        if a != b:
            differ.append((req.query[:40], a, b))
    assert differ == []


def test_facets_are_counted_beside_the_search_in_threads_the_process_shares(pair, tmp_path):
    import index._tantivy as tantivy_backend

    _, tv, _, _, _ = pair
    first = tv.search(SearchRequest("合同 光华"), PRINCIPALS["admin"])
    assert first.facets
    threads = tantivy_backend._facets_pool
    assert threads is not None
    other = open_backend(create_engine(f"sqlite:///{tmp_path / 'other.db'}"), "tantivy")
    other.index([_doc(1, customers=("光华物流",))])
    assert other.search(SearchRequest("光华"), PRINCIPALS["admin"]).facets["customer"]
    assert tantivy_backend._facets_pool is threads  # one pool for every index of the process
    other.close()


def test_a_forked_child_counts_facets_in_threads_of_its_own(pair):
    """An RQ work horse is forked from a worker that may have searched: the parent's facet threads are not in
    the child, which must start its own rather than wait on them."""
    _, tv, _, _, _ = pair
    expected = tv.search(SearchRequest("报价 合同"), PRINCIPALS["admin"])
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only with the parent's answer, counted in its own threads
        try:
            got = tv.search(SearchRequest("报价 合同", limit=9), PRINCIPALS["admin"])
            same = got.total == expected.total and got.facets == expected.facets
            os._exit(0 if same else 1)
        finally:
            os._exit(2)
    for _ in range(600):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's search did not finish in 30 s")
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_filters_versions_activities_and_lifecycle_select_the_same_entries(pair, role):
    embedded, tv, _, _docs, names = pair
    principal = PRINCIPALS[role]
    differ = []
    nonempty = 0
    for req in _filtered(names):
        mine, theirs = _ids(embedded, req, principal), _ids(tv, req, principal)
        nonempty += bool(mine)
        if mine != theirs:
            differ.append((req, len(mine), len(theirs)))
    assert differ == []
    assert nonempty >= 20
    versions = _ids(tv, SearchRequest("合同", versions="all"), PRINCIPALS["admin"])
    assert any(-ACTIVITY_ID_BASE < i < 0 for i in versions)
    assert all(i <= -ACTIVITY_ID_BASE for i in _ids(tv, SearchRequest("", activities="only"), principal))


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
@pytest.mark.parametrize(
    "query", ["合同", "报价 服务器", "光华*", "发票 OR 报价", "", "is:archived", "合同 archived:include"]
)
def test_facets_and_lifecycle_counts_are_the_embedded_index_s(pair, role, query):
    embedded, tv, _, _, _ = pair
    principal = PRINCIPALS[role]
    mine = embedded.search(SearchRequest(query, limit=5), principal)
    theirs = tv.search(SearchRequest(query, limit=5), principal)
    assert theirs.total == mine.total
    assert set(theirs.facets) == set(mine.facets)
    for name, counts in mine.facets.items():
        assert theirs.facets[name] == counts, name


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_first_pages_and_snippets_are_the_embedded_index_s(pair, role):
    embedded, tv, requests, _, names = pair
    principal = PRINCIPALS[role]
    compared = 0
    for req in [*requests[::3], *_filtered(names)]:
        for sort in ("relevance", "date_desc", "date_asc"):
            page = replace(req, sort=sort, limit=20, facets=False)
            mine = embedded.search(page, principal)
            theirs = tv.search(page, principal)
            assert theirs.total == mine.total
            if sort != "relevance":  # by date: the same keys (date, intake, id), so the same page in order
                assert [h.id for h in theirs.hits] == [h.id for h in mine.hits], (req.query, sort)
                compared += 1
            elif mine.total <= 20:  # ranked: bm25 differs between the engines, so the page as a set
                assert {h.id for h in theirs.hits} == {h.id for h in mine.hits}, req.query
                compared += 1
            by_id = {h.id: h for h in mine.hits}
            for hit in theirs.hits:
                other = by_id.get(hit.id)
                if other is not None:
                    assert (hit.snippet, hit.title_html, hit.title_parts) == (
                        other.snippet,
                        other.title_html,
                        other.title_parts,
                    ), (req.query, hit.id)
                    assert (hit.version, hit.document_id, hit.activity) == (
                        other.version,
                        other.document_id,
                        other.activity,
                    )
    assert compared > 30


def test_iter_hits_gives_every_hit_with_its_snippet_in_order(pair):
    embedded, tv, _, _, _ = pair
    req = SearchRequest("合同", sort="date_desc")
    mine = list(embedded.iter_hits(req, PRINCIPALS["owner"], batch=50))
    theirs = list(tv.iter_hits(req, PRINCIPALS["owner"], batch=50))
    assert [h.id for h in theirs] == [h.id for h in mine]
    assert [h.snippet for h in theirs] == [h.snippet for h in mine]
    assert all("<mark>" in h.snippet or "<mark>" in h.title_html for h in theirs)


def test_ranked_search_puts_the_named_type_and_title_matches_first(pair):
    _, tv, _, _, _ = pair
    result = tv.search(SearchRequest("合同", limit=30, facets=False), PRINCIPALS["admin"])
    assert result.total > 30
    assert all(0 < h.score < 1000 for h in result.hits)  # the text score, without the tiers' constants
    got = tv.iter_hits(SearchRequest("合同", facets=False), PRINCIPALS["admin"], snippets=False)
    ids = [h.id for h in got]
    embedded, _, _, _, _ = pair
    contract_ids = set(embedded.iter_ids(SearchRequest("合同", doc_types=("contract",)), PRINCIPALS["admin"]))
    first = ids[: len(contract_ids)]
    assert set(first) == contract_ids  # every contract ranks above every other match


def test_counts_entry_ids_and_status(pair):
    embedded, tv, _, _docs, _ = pair
    assert tv.count() == embedded.count()
    assert sorted(tv.entry_ids()) == sorted(embedded.entry_ids())
    status = tv.status()
    assert status["backend"] == "tantivy" and status["pending"] == 0 and status["documents"] == tv.count()


# -- the write path ------------------------------------------------------------------------------


def _doc(i: int, text: str = "季度采购合同 光华物流", **kw) -> IndexDocument:
    return IndexDocument(
        id=i, title=f"文档{i}", text=f"{text} 编号{i}", created_at="2024-01-01T00:00:00", **kw
    )


@pytest.fixture()
def fresh(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'records.db'}")
    backend = open_backend(engine, "tantivy")
    assert not backend.needs_reindex()  # a new index is up to date
    yield engine, backend, tmp_path
    backend.close()


def test_the_index_lives_beside_the_records_and_deletes_leave_it(fresh):
    _engine, backend, tmp_path = fresh
    assert backend.path == tmp_path / "records.tantivy"
    backend.index([_doc(i) for i in range(1, 11)])
    admin = Principal.system()
    assert backend.search(SearchRequest("光华物流"), admin).total == 10
    backend.delete([2, 3, 99])
    assert backend.count() == 8
    assert _ids(backend, SearchRequest("合同"), admin) == {1, *range(4, 11)}
    backend.index([_doc(4, "服务器报价")])  # a replaced document: its old text no longer matches
    assert 4 not in _ids(backend, SearchRequest("合同"), admin)
    assert _ids(backend, SearchRequest("服务器"), admin) == {4}
    secret = _doc(20, "机密条款独一无二的词语甲乙丙")
    backend.index([secret, _doc(21)])  # one segment, which outlives the delete
    backend.delete([20])

    def deleted_kept() -> int:  # entries deleted but still in a segment (meta.json of the index)
        meta = json.loads((backend.path / "meta.json").read_text())
        return sum((seg.get("deletes") or {}).get("num_deleted_docs", 0) for seg in meta["segments"])

    assert deleted_kept() >= 1  # deleted, but its segment still holds it

    assert backend.expunge([20])
    assert backend.count() == 9
    assert deleted_kept() == 0  # no segment keeps it; the others are searched as before
    assert _ids(backend, SearchRequest("服务器"), admin) == {4}
    assert backend.search(SearchRequest("光华物流"), admin).total == 8
    assert backend.similar_words("甲乙丁") == []


def test_a_queued_write_commits_with_the_records_and_another_process_sees_it(fresh):
    engine, backend, _ = fresh
    other = TantivyBackend(engine)  # another process's backend object on the same index
    admin = Principal.system()
    with engine.begin() as conn:
        backend.index([_doc(1), _doc(2)], connection=conn)
        conn.rollback()  # a rolled-back transaction leaves nothing queued
    assert other.search(SearchRequest("光华"), admin).total == 0
    with engine.begin() as conn:
        backend.index([_doc(1), _doc(2)], connection=conn)
    assert backend.outbox.pending() == 2
    # nobody flushed: the other process's search applies what the outbox holds first
    assert other.search(SearchRequest("光华"), admin).total == 2
    assert backend.outbox.pending() == 0
    assert backend.search(SearchRequest("光华"), admin).total == 2
    backend.delete([1])
    assert other.search(SearchRequest("光华"), admin).total == 1


_KILLED = """
import os, signal, sys
from sqlalchemy import create_engine
from index import IndexDocument, open_backend
backend = open_backend(create_engine(sys.argv[1]), "tantivy")
docs = [IndexDocument(id=i, title=f"文档{{i}}", text=f"崩溃之前写入的合同 {{i}}") for i in range(100, 140)]
if sys.argv[2] == "queued":  # committed with the records, killed before the index saw it
    with backend._engine.begin() as conn:
        backend.index(docs, connection=conn)
else:  # killed inside the index commit: the writer lock and a half-written segment are left
    with backend._engine.begin() as conn:
        backend.index(docs, connection=conn)
    from index._tantivy import WRITER_HEAP
    from index._tv_schema import tv_document
    from index._sqlite_entry import entry_of
    index = backend._open()
    with backend._locked():
        writer = index.writer(heap_size=WRITER_HEAP)
        for doc in docs:
            writer.add_document(tv_document(doc, entry_of(doc)))
        print("writing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("when", ["queued", "writing"])
def test_a_writer_killed_by_sigkill_loses_nothing(fresh, when):
    engine, backend, _ = fresh
    backend.index([_doc(1)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED), str(engine.url), when],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert backend.outbox.pending() == 40  # the records hold the work; the index does not have it yet
    admin = Principal.system()
    # the next search (any process) takes the writer lock the dead process left and applies the outbox
    assert backend.search(SearchRequest("崩溃之前写入"), admin).total == 40
    assert backend.outbox.pending() == 0
    assert backend.count() == 41
    assert sorted(backend.entry_ids()) == [1, *range(100, 140)]


_WRITER = """
import sys
from sqlalchemy import create_engine
from index import IndexDocument, open_backend
backend = open_backend(create_engine(sys.argv[1], connect_args={"timeout": 60}), "tantivy")
first = int(sys.argv[2])
for i in range(first, first + 40, 4):  # ten small commits, each flushed at once under the writer lock
    backend.index([IndexDocument(id=j, title=f"文档{j}", text=f"并发写入的报价 {j}") for j in range(i, i + 4)])
"""


def test_processes_writing_at_once_take_turns_and_lose_nothing(fresh):
    engine, backend, _ = fresh
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_WRITER), str(engine.url), str(first)], env=env
        )
        for first in (1, 1001, 2001)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    assert backend.search(SearchRequest("并发写入"), Principal.system()).total == 120
    assert backend.outbox.pending() == 0


def test_a_failing_index_keeps_the_work_queued_with_the_reason(fresh, monkeypatch):
    engine, backend, _ = fresh

    def full_disk(*_args):  # the index cannot be written (a full disk, say)
        raise OSError(28, "No space left on device")

    with engine.begin() as conn:
        backend.index([_doc(1)], connection=conn)
    monkeypatch.setattr(backend, "_apply_rows", full_disk)
    report = backend.flush()
    assert "No space left" in (report.error or "") and report.sent == 0
    assert backend.outbox.pending() == 1 and not backend.settle(1)
    assert "No space left" in backend.outbox.last_error()
    monkeypatch.undo()
    assert backend.flush().sent == 0  # waiting out its backoff
    assert backend.settle() and backend.count() == 1


def test_an_index_of_another_analysis_or_schema_needs_a_reindex(fresh):
    engine, backend, _ = fresh
    backend.index([_doc(1)])
    backend._set_marker(analysis="0")  # written by an older analysis
    assert TantivyBackend(engine).needs_reindex()
    backend.clear()
    assert not TantivyBackend(engine).needs_reindex()
    backend.index([_doc(1)])
    backend._set_marker(schema="0")  # another schema: replaced by an empty index, to be refilled
    other = TantivyBackend(engine)
    assert other.needs_reindex() and other.count() == 0


def test_a_rebuild_refills_the_index(fresh):
    _, backend, _ = fresh
    backend.index([_doc(i) for i in range(1, 5)])
    rebuild = backend.start_rebuild()
    assert backend.count() == 0
    rebuild.add([_doc(i) for i in range(1, 8)])
    rebuild.finish()
    assert backend.count() == 7
    assert not backend.needs_reindex()


def test_changes_made_during_a_rebuild_are_not_undone_by_its_batches(fresh):
    """GIVEN a rebuild that read documents 1-6 from the records WHEN, before it writes them, document 2
    is changed, document 3 deleted and document 9 added (queued and flushed as usual, by another
    backend object as another process would) THEN the batch leaves 2 and 3 alone: the change stays,
    the deleted document does not come back, nothing is doubled; after the rebuild, writes are plain."""
    engine, backend, _ = fresh
    admin = Principal.system()
    backend.index([_doc(i) for i in range(1, 7)])
    rebuild = backend.start_rebuild()
    read_before = [_doc(i) for i in range(1, 7)]  # what the rebuild read from the records
    other = TantivyBackend(engine)
    with engine.begin() as conn:
        other.index([_doc(2, "服务器报价"), _doc(9)], connection=conn)
        other.delete([3], connection=conn)
    other.flush()
    rebuild.add(read_before)
    rebuild.finish()
    assert _ids(backend, SearchRequest("服务器"), admin) == {2}
    assert _ids(backend, SearchRequest("光华物流"), admin) == {1, 4, 5, 6, 9}
    assert backend.count() == 6  # 1, 2, 4, 5, 6, 9: one entry each
    backend.index([_doc(2)])  # the rebuild is over: a write is a write
    assert _ids(backend, SearchRequest("服务器"), admin) == set()
    again = backend.start_rebuild()  # a new rebuild starts with nothing noted
    again.add([_doc(i) for i in (1, 2, 4)])
    again.finish()
    assert _ids(backend, SearchRequest("光华物流"), admin) == {1, 2, 4}


def _stored(backend: TantivyBackend) -> list[dict]:
    backend.reload()
    searcher = backend._open().searcher()
    found = searcher.search(tantivy.Query.all_query(), limit=max(1, searcher.num_docs))
    return sorted((searcher.doc(a).to_dict() for _, a in found.hits), key=lambda d: d["id"][0])


def test_a_rebuild_by_worker_processes_writes_what_one_process_writes(tmp_path, monkeypatch, caplog):
    """GIVEN 60 varied documents and one the index refuses WHEN rebuilt by two analysing processes in
    batches of 7, committed every 10 documents, and again in this process alone THEN both indexes hold
    the same entries, field for field, and answer alike; the refused document is left out with a warning."""
    monkeypatch.setattr(_rebuild, "PARALLEL_FROM", 1)
    monkeypatch.setattr(_tantivy, "REBUILD_COMMIT_ROWS", 10)
    kinds = (
        "季度采购合同 光华物流",
        "PowerEdge R750 报价单",
        "臺灣分公司 iPhone15Pro 拜访",
        "发票 ¥12,800.00",
    )
    docs = [
        _doc(i, kinds[i % 4], doc_type=("contract", "quote", "note")[i % 3], customers=(f"客户{i % 5}",))
        for i in range(1, 61)
    ]
    docs.insert(30, _doc(999, confidentiality="绝密"))  # no such level: refused
    built = {}
    for processes in (2, 0):
        backend = open_backend(create_engine(f"sqlite:///{tmp_path / f'p{processes}.db'}"), "tantivy")
        rebuild = backend.start_rebuild()
        rebuild._pool._processes = processes
        with caplog.at_level("WARNING"):
            for start in range(0, len(docs), 7):
                rebuild.add(docs[start : start + 7])
            rebuild.finish()
        built[processes] = backend
    assert "999" in caplog.text
    pooled, local = built[2], built[0]
    assert [d["id"][0] for d in _stored(pooled)] == list(range(1, 61))
    assert _stored(pooled) == _stored(local)
    for q in ("光华物流", "R750", "台湾", "type:quote", "12800"):
        assert _ids(pooled, SearchRequest(q), Principal.system()) == _ids(
            local, SearchRequest(q), Principal.system()
        )
    assert not pooled.needs_reindex()


def test_what_a_commit_kept_is_given_again_only_while_no_newer_commit_came(fresh):
    """GIVEN results and snippets kept for one commit WHEN the same requests come again THEN they are given
    from the memo (the same, each with its own time) to each principal as its own: a sales rep never gets
    what an administrator's search kept; WHEN another process (another backend object) edits a document,
    adds one and deletes one THEN the next search shows every change, snippets included."""
    engine, backend, _ = fresh
    admin, sales = Principal.system(), Principal("s", "sales")
    backend.index([_doc(1), _doc(2, confidentiality="finance"), _doc(3)])
    request = SearchRequest("光华物流")
    first = backend.search(request, admin)
    assert {h.id for h in first.hits} == {1, 2, 3}
    assert backend._snapshot()[1] is not None and len(backend._snapshot()[1]) > 0
    again = backend.search(request, admin)
    assert again.hits == first.hits and again.total == first.total and again.facets == first.facets
    again.hits.clear()  # type: ignore[attr-defined]  # a caller changing its own result
    again.facets["doc_type"].clear()
    third = backend.search(request, admin)
    assert third.hits == first.hits and third.facets == first.facets
    assert {h.id for h in backend.search(request, sales).hits} == {1, 3}
    other = TantivyBackend(engine)
    other.index([_doc(1, "光华物流 续签的合同"), _doc(4)])
    other.delete([3])
    after = backend.search(request, admin)
    assert {h.id for h in after.hits} == {1, 2, 4}
    assert "续签" in next(h.snippet for h in after.hits if h.id == 1)
    assert {h.id for h in backend.search(request, sales).hits} == {1, 4}
    listed = SearchRequest("光华物流", doc_types=["other"])  # type: ignore[arg-type]  # a list, unhashable
    assert {h.id for h in backend.search(listed, admin).hits} == {1, 2, 4}


@pytest.mark.parametrize(
    "texts",
    [
        ("报价单", "光华物流\x1f重要", "正文"),
        ("", "", ""),
        ("3:4:", "::", "正文\x00 12:30 😀\ue000"),
        ("a" * 5000, "", "b"),
    ],
)
def test_the_stored_texts_come_back_as_they_were(texts):
    from index._tv_schema import pack_texts, stored_texts

    assert stored_texts({"texts": [pack_texts(*texts)]}) == texts


def test_the_setting_selects_the_tantivy_backend(tmp_path):
    from dossier.app.resources import _backend_options
    from foundation.config import load_settings

    settings = load_settings(
        {"DOSSIER_HOME": str(tmp_path), "DOSSIER_OPENSEARCH_URL": "tantivy"}, dotenv=tmp_path / "none.env"
    )
    options = _backend_options(settings)
    backend = open_backend(create_engine(f"sqlite:///{tmp_path / 'dossier.db'}"), "tantivy", **options)
    assert isinstance(backend, TantivyBackend) and backend.path == tmp_path / "dossier.tantivy"


def test_postgresql_records_keep_the_outbox_and_the_index_lives_in_the_home(postgres_url, tmp_path):
    engine = create_engine(postgres_url)
    try:
        backend = open_backend(engine, "tantivy", home=str(tmp_path))
        assert isinstance(backend, TantivyBackend) and backend.path == tmp_path / "tantivy"
        with engine.begin() as conn:  # queued in the records' transaction, applied after it
            backend.index([_doc(1), _doc(2, "服务器报价")], connection=conn)
        other = TantivyBackend(engine, tmp_path / "tantivy")
        admin = Principal.system()
        assert _ids(other, SearchRequest("光华"), admin) == {1}
        backend.delete([1])
        assert backend.count() == 1 and other.search(SearchRequest("服务器"), admin).total == 1
        assert backend.outbox.pending() == 0
        backend.close()
    finally:
        engine.dispose()

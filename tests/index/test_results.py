"""Snippets, facets, permissions and the backend's transaction and resolver contracts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.errors import DossierError
from index import (
    IndexDocument,
    OpenSearchBackend,
    Principal,
    SqliteBackend,
    highlight,
    open_backend,
    readable_levels,
)

VIEWER = Principal(username="v", role="viewer")
FINANCE = Principal(username="f", role="finance")


def test_snippet_is_escaped_and_marked(add, search):
    """A document containing <script> shows &lt;script&gt;; matches are in <mark>."""
    add(1, '页面包含 <script>alert("x")</script> 和 蓝鲸计划 & 其他')
    hit = search("蓝鲸").hits[0]
    assert "&lt;script&gt;" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "<mark>蓝鲸</mark>" in hit.snippet
    assert "&amp;" in hit.snippet


def test_snippet_window_prefers_distinct_terms(add, search):
    """The snippet window shows the place where most distinct query terms meet."""
    text = "报价" + "。" * 300 + "服务器和报价都在这里" + "。" * 300
    add(1, text)
    snippet = search("服务器 报价").hits[0].snippet
    assert "<mark>服务器</mark>" in snippet and "<mark>报价</mark>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) < 250


def test_snippet_maps_normalised_match_to_original_text(add, search):
    """A full-width, line-wrapped match is marked in its original form."""
    add(1, "型号：ＡＢＣ１２３，厂商：明远\n科技")
    s = search("abc123 明远科技").hits[0].snippet
    assert "<mark>ＡＢＣ１２３</mark>" in s
    assert "<mark>明远 科技</mark>" in s  # whitespace folded for display


def test_every_hit_has_a_marked_snippet(add, search):
    """Hits through bigrams, phones, prefixes or metadata all show a highlighted match."""
    add(1, "甲方：上海明远科技有限公司")
    add(2, "电话 189-6928-1627")
    add(3, "电子厂房")
    add(4, "正文无关", customers=("明远集团",))
    for q in ("明远", "18969281627", "厂", "远科"):
        for hit in search(q).hits:
            assert "<mark>" in hit.snippet, (q, hit)


def test_highlight_public_helper():
    """highlight() escapes a whole text and marks the query's positive terms, keeping newlines."""
    out = highlight("第一页 <b>\n明远科技 报价", "明远 -报价 customer:x")
    assert out == "第一页 &lt;b&gt;\n<mark>明远</mark>科技 报价"


@pytest.fixture
def levelled(add):
    add(
        1,
        "年度报价 服务器",
        doc_type="quote",
        confidentiality="public",
        customers=("明远科技",),
        date="2023-03-01",
        tags=("重要",),
    )
    add(
        2,
        "年度报价 存储",
        doc_type="quote",
        confidentiality="internal",
        customers=("云帆信息",),
        date="2024-03-01",
    )
    add(
        3,
        "年度报价 发票",
        doc_type="invoice",
        confidentiality="finance",
        customers=("明远科技",),
        date="2024-05-01",
        tags=("重要",),
    )
    add(
        4,
        "年度报价 机密",
        doc_type="contract",
        confidentiality="confidential",
        customers=("云帆信息",),
        customer_ids=(7,),
        access_customer_ids=(7,),
        date="2024-06-01",
    )


def test_facets_count_all_matches(levelled, search):
    """Facets count every match, not just the page."""
    r = search("年度报价", limit=1)
    assert r.total == 4 and len(r.hits) == 1
    assert dict(r.facets["doc_type"]) == {"quote": 2, "invoice": 1, "contract": 1}
    assert dict(r.facets["customer"]) == {"明远科技": 2, "云帆信息": 2}
    assert dict(r.facets["year"]) == {"2023": 1, "2024": 3}
    assert dict(r.facets["tag"]) == {"重要": 2}


def test_confidentiality_filter_applies_to_hits_and_facets(levelled, search):
    """A viewer sees only public documents, and facets never count the others."""
    r = search("年度报价", VIEWER)
    assert [h.id for h in r.hits] == [1] and r.total == 1
    assert dict(r.facets["doc_type"]) == {"quote": 1}
    assert dict(r.facets["customer"]) == {"明远科技": 1}
    r = search("年度报价", FINANCE)
    assert sorted(h.id for h in r.hits) == [1, 2, 3]
    assert "contract" not in dict(r.facets["doc_type"])
    assert search("机密", VIEWER).total == 0


def test_sales_reads_confidential_of_owned_customers(levelled, search):
    """Sales read public/internal, plus confidential documents of customers they own."""
    assert sorted(h.id for h in search("年度报价", Principal("s", "sales")).hits) == [1, 2]
    owner = Principal("s", "sales", owned_customer_ids=frozenset({7}))
    assert sorted(h.id for h in search("年度报价", owner).hits) == [1, 2, 4]


def test_the_owner_permission_follows_the_access_customers_not_the_linked_ones(backend, search):
    """An entry's readers are its access (the container rule's result): an e-mail filed under 明远 that carries
    a confidential contract of 云帆 is read by 云帆's rep, not 明远's; a restricted one by admins and managers only."""
    backend.index(
        [
            IndexDocument(
                id=11,
                title="邮件",
                text="转发合同 青松",
                confidentiality="confidential",
                customers=("明远科技",),
                customer_ids=(1,),
                access_customer_ids=(7,),
            ),
            IndexDocument(
                id=12,
                title="邮件",
                text="合同和发票 青松",
                confidentiality="restricted",
                customers=("明远科技",),
                customer_ids=(1,),
            ),
        ]
    )
    assert [
        h.id for h in search("青松", Principal("s", "sales", owned_customer_ids=frozenset({1}))).hits
    ] == []
    assert [
        h.id for h in search("青松", Principal("s", "sales", owned_customer_ids=frozenset({7}))).hits
    ] == [11]
    assert search("青松", FINANCE).total == 0
    assert sorted(h.id for h in search("青松", Principal("m", "manager")).hits) == [11, 12]


def test_readable_levels():
    """One function decides which levels each role reads."""
    assert readable_levels(Principal.system()) == {
        "public",
        "internal",
        "confidential",
        "finance",
        "restricted",
    }
    assert readable_levels(Principal("m", "manager")) == readable_levels(Principal.system())
    assert readable_levels(FINANCE) == {"public", "internal", "finance"}
    assert readable_levels(Principal("s", "sales")) == {"public", "internal"}
    assert readable_levels(VIEWER) == {"public"}
    assert readable_levels(Principal("x", "unknown-role")) == {"public"}


def test_index_joins_the_callers_transaction(engine, backend, find):
    """Indexing with a connection commits or rolls back with the caller's transaction.

    An external engine sends what committed when flushed after the commit; a rolled-back
    write is never sent.
    """
    with engine.connect() as conn:
        conn.begin()
        backend.index([IndexDocument(id=1, title="t", text="回滚的文档")], connection=conn)
        conn.rollback()
    assert backend.flush().rejected == ()
    assert find("回滚") == []
    with engine.begin() as conn:
        backend.index([IndexDocument(id=2, title="t", text="提交的文档")], connection=conn)
        backend.delete([1], connection=conn)
    backend.flush()
    assert find("提交") == [2]
    assert backend.count() == 1


def test_unknown_confidentiality_is_refused(backend):
    """A document with an unknown confidentiality level is refused, not indexed as readable."""
    with pytest.raises(DossierError):
        backend.index([IndexDocument(id=1, title="t", text="x", confidentiality="secret")])
    assert backend.count() == 0


def test_open_backend_resolves_aliases(engine):
    """'' and 'sqlite' give the embedded backend; schema creation is idempotent."""
    assert isinstance(open_backend(engine, ""), SqliteBackend)
    assert isinstance(open_backend(engine, "sqlite"), SqliteBackend)


def test_open_backend_resolves_an_opensearch_url_without_contacting_it(engine):
    """An http(s) URL gives the OpenSearch backend, opened without a request (the cluster may be down); junk is refused."""
    backend = open_backend(engine, "http://127.0.0.1:1", index_name="nowhere")
    assert isinstance(backend, OpenSearchBackend) and backend.alias == "nowhere"
    with pytest.raises(DossierError, match="backend"):
        open_backend(engine, "elasticsearch")


def test_sqlite_backend_refuses_other_databases():
    """FTS5 needs SQLite: another engine is refused with a clear message."""
    eng = sa.create_mock_engine("postgresql://", executor=lambda *a, **k: None)  # no server needed
    with pytest.raises(DossierError, match="SQLite"):
        SqliteBackend(eng)  # type: ignore[arg-type]


def test_huge_result_sets_fall_back_to_recency(sqlite_backend, monkeypatch):
    """Embedded: above RANK_LIMIT matches, relevance order is recency (bm25 over all would be too slow)."""
    from index import SearchRequest, _sqlite

    sqlite_backend.index([IndexDocument(id=1, text="合同", title="合同", created_at="2024-01-01")])
    sqlite_backend.index([IndexDocument(id=2, text="合同 正文", title="文档2", created_at="2024-02-01")])
    admin = Principal("admin", "admin")
    assert [h.id for h in sqlite_backend.search(SearchRequest("合同"), admin).hits] == [1, 2]  # title wins
    monkeypatch.setattr(_sqlite, "RANK_LIMIT", 1)
    r = sqlite_backend.search(SearchRequest("合同"), admin)
    assert [h.id for h in r.hits] == [2, 1] and r.total == 2


@pytest.mark.parametrize("sort", ["relevance", "date_desc", "date_asc"])
def test_iter_ids_walks_every_match_in_the_search_order(backend, sort):
    """iter_ids (exports) yields exactly the readable matches, in the order search pages them."""
    from index import SearchRequest

    docs = [
        IndexDocument(
            id=i,
            title="报价单" if i % 3 == 0 else f"文档{i}",
            text=f"服务器报价 第{i}版",
            date=f"2024-0{1 + i % 9}-1{i % 10}" if i % 4 else None,
            created_at=f"2024-05-01T00:00:{i:02d}",
            confidentiality="finance" if i % 5 == 0 else "internal",
        )
        for i in range(1, 31)
    ]
    backend.index(docs)
    for principal in (Principal("admin", "admin"), Principal("s", "sales")):
        request = SearchRequest("报价", sort=sort, limit=1000)
        paged = [h.id for h in backend.search(request, principal).hits]
        assert list(backend.iter_ids(request, principal, batch=7)) == paged
    assert len(list(backend.iter_ids(SearchRequest("报价"), Principal("s", "sales")))) == 24


def test_a_full_rebuild_leaves_exactly_the_documents_it_was_given(backend, find):
    """start_rebuild → add → finish: afterwards the index holds what the rebuild added, nothing older."""
    backend.index(
        [IndexDocument(id=1, title="t", text="旧的合同"), IndexDocument(id=2, title="t", text="报价单")]
    )
    rebuild = backend.start_rebuild(restart=True)
    assert rebuild.resume_after == 0
    rebuild.add([IndexDocument(id=2, title="t", text="新的报价单")])
    rebuild.add([IndexDocument(id=3, title="t", text="增值税发票")])
    rebuild.finish()
    assert find("合同") == []
    assert find("新的报价") == [2]
    assert find("发票") == [3]
    assert backend.count() == 2


def test_iter_hits_carries_the_scores_and_snippets_of_search(backend):
    """iter_hits (exports) gives each hit the score and snippet search gives it, in the same order."""
    from index import SearchRequest

    backend.index(
        [
            IndexDocument(id=i, title=f"文档{i}", text=f"第{i}份 服务器报价，含税" + "。" * i)
            for i in range(1, 13)
        ]
    )
    admin = Principal("admin", "admin")
    request = SearchRequest("服务器 报价", limit=1000)
    paged = backend.search(request, admin).hits
    walked = list(backend.iter_hits(request, admin, batch=5))
    assert [(h.id, round(h.score, 4), h.snippet) for h in walked] == [
        (h.id, round(h.score, 4), h.snippet) for h in paged
    ]
    assert all("<mark>" in h.snippet for h in walked)
    bare = list(backend.iter_hits(request, admin, snippets=False))
    assert [h.id for h in bare] == [h.id for h in paged] and all(h.snippet == "" for h in bare)

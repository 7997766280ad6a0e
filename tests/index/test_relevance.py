"""Relevance tiers (index._relevance), on both backends: a query naming a document type ranks that type
first, title and customer matches rank above body matches — and only the order changes.

One small index per backend (module scope): contracts, quotes, invoices and the e-mails and notes
that talk about them.  The e-mails are the newest and say the type word most often, so without the
tiers they would come first (bm25 and recency both favour them: the problem the tiers fix).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from index import IndexDocument, Principal, SearchBackend, SearchRequest, open_backend
from index._query import parse_query
from index._relevance import FIELDS_BOOST, named_types
from tests import _opensearch
from tests.conftest import DEV, TANTIVY

ADMIN = Principal(username="admin", role="admin")
MANY = "合同的附件已经发出，合同条款请法务看一下，合同金额不变。" * 3

DOCS = (
    # contracts: their title says 合同 once (or not at all: 服务协议), their text a little
    IndexDocument(
        id=1,
        title="产品购销合同",
        text="甲方：光华物流。乙方：云帆信息。本合同自签订之日起生效。",
        doc_type="contract",
        created_at="2024-01-01T00:00:00",
    ),
    IndexDocument(
        id=2,
        title="技术服务协议",
        text="甲方与乙方签订本协议，作为主合同的补充。",
        doc_type="contract",
        created_at="2024-01-02T00:00:00",
    ),
    IndexDocument(
        id=3,
        title="销售合同",
        text="合同编号 HT-2024-0001，签订日期 2024-03-01。",
        doc_type="contract",
        customers=("光华物流（武汉）有限公司",),
        created_at="2024-01-03T00:00:00",
    ),
    # e-mails and notes that mention the word, more often and more recently
    IndexDocument(
        id=10,
        title="RE: 合同草稿请审阅",
        text=MANY,
        doc_type="email",
        created_at="2024-06-01T00:00:00",
    ),
    IndexDocument(
        id=11,
        title="会议纪要",
        text="讨论了合同续签和报价单的问题。" + MANY,
        doc_type="meeting",
        created_at="2024-06-02T00:00:00",
    ),
    IndexDocument(
        id=12,
        title="关于报价单的邮件",
        text="报价单已发出，请查收报价单。报价单有效期30天，报价单金额含税。" * 3,
        doc_type="email",
        created_at="2024-06-03T00:00:00",
    ),
    # quotes
    IndexDocument(
        id=20,
        title="报价单",
        text="报价单号 BJ-2024-001，客户：光华物流。",
        doc_type="quote",
        created_at="2024-02-01T00:00:00",
    ),
    IndexDocument(
        id=21,
        title="Quotation",
        text="设备清单与价格，详见附表。报价单以盖章版本为准。",
        doc_type="quote",
        created_at="2024-02-02T00:00:00",
    ),
    # invoices, in English, and an e-mail asking about one
    IndexDocument(
        id=30,
        title="Commercial Invoice",
        text="Invoice no. 2024-17. Total due 12,000 USD.",
        doc_type="invoice",
        created_at="2024-03-01T00:00:00",
    ),
    IndexDocument(
        id=31,
        title="Tax invoice",
        text="Invoice for services rendered in March.",
        doc_type="invoice",
        created_at="2024-03-02T00:00:00",
    ),
    IndexDocument(
        id=32,
        title="Re: question",
        text="About the invoice: the invoice total looks wrong, please resend the invoice. " * 3,
        doc_type="email",
        created_at="2024-07-01T00:00:00",
    ),
    # title and customer above body: 星河计划 in a title, as a customer, and only (often) in a text
    IndexDocument(
        id=40,
        title="星河计划进度",
        text="本周完成了需求评审。",
        doc_type="other",
        created_at="2023-01-01T00:00:00",
    ),
    IndexDocument(
        id=41,
        title="周报",
        text="本周跟进客户。",
        doc_type="other",
        customers=("星河计划科技有限公司",),
        created_at="2023-01-02T00:00:00",
    ),
    IndexDocument(
        id=42,
        title="周报",
        text="星河计划的需求、星河计划的排期、星河计划的预算、星河计划的风险。" * 4,
        doc_type="other",
        created_at="2023-06-01T00:00:00",
    ),
)
TYPES = {d.id: d.doc_type for d in DOCS}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    """Each backend holding :data:`DOCS` (OpenSearch when a node is configured)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('relevance') / 'dossier.db'}")
    if request.param in ("sqlite", "tantivy"):
        b = open_backend(engine, "" if request.param == "sqlite" else "tantivy")
        b.index(list(DOCS))
        yield b
    else:
        url = _opensearch.cluster_url()
        b = _opensearch.make_backend(engine, url)
        try:
            b.index(list(DOCS))
            b.flush(force=True)
            assert b.settle(30)
            yield b
        finally:
            _opensearch.drop(url, b.alias)
    engine.dispose()


def _ids(backend: SearchBackend, query: str, **req: object) -> list[int]:
    req.setdefault("limit", 100)
    return [h.id for h in backend.search(SearchRequest(query, **req), ADMIN).hits]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "doc_type", "others"),
    [("合同", "contract", {10, 11}), ("报价单", "quote", {11, 12}), ("invoice", "invoice", {32})],
)
def test_documents_of_the_named_type_come_first(
    backend: SearchBackend, query: str, doc_type: str, others: set[int]
) -> None:
    """Every document of the type the query names ranks above every document that merely mentions it."""
    ids = _ids(backend, query)
    typed = [i for i in ids if TYPES[i] == doc_type]
    assert typed and set(ids) - set(typed) == others
    assert ids[: len(typed)] == typed, ids  # the type's documents, then the mentions


def test_only_the_order_changes(backend: SearchBackend) -> None:
    """Same hits and totals as the order without tiers (a date sort), and as a type filter plus the rest."""
    for query in ("合同", "报价单", "invoice", "星河计划", "合同 光华物流"):
        ranked = backend.search(SearchRequest(query, limit=100), ADMIN)
        by_date = backend.search(SearchRequest(query, limit=100, sort="date_desc"), ADMIN)
        assert ranked.total == by_date.total == len(ranked.hits)
        assert sorted(h.id for h in ranked.hits) == sorted(h.id for h in by_date.hits)
    # the date sort stays a date sort: the newest e-mail first, whatever the query names
    assert _ids(backend, "合同", sort="date_desc")[0] == 11


def test_title_and_customer_matches_rank_above_body_matches(backend: SearchBackend) -> None:
    """A title or customer match beats a text that says the words many times."""
    ids = _ids(backend, "星河计划")
    assert set(ids[:2]) == {40, 41} and ids[2] == 42, ids


def test_type_then_title_inside_the_type(backend: SearchBackend) -> None:
    """Among the contracts, those whose title or customer holds every term come first; then the others."""
    ids = _ids(backend, "合同")
    assert set(ids[:2]) == {1, 3} and ids[2] == 2, ids  # 技术服务协议 says 合同 only in its text
    both = _ids(backend, "合同 光华物流")
    assert both[0] == 3, both  # title 销售合同 and customer 光华物流: the one contract matching in its meta


def test_phrases_stay_exact(backend: SearchBackend) -> None:
    """A quoted phrase finds what it found before; the tiers only order it."""
    ids = _ids(backend, '"销售合同"')
    assert ids == [3]
    ids = _ids(backend, '"合同条款"')
    assert sorted(ids) == [10, 11]


def test_pages_and_the_full_order_agree(backend: SearchBackend) -> None:
    """Pages across the tiers' borders join into the first page's order; iter_ids walks the same order."""
    full = _ids(backend, "合同")
    paged: list[int] = []
    for offset in range(0, len(full), 2):
        paged.extend(_ids(backend, "合同", offset=offset, limit=2))
    assert paged == full
    assert list(backend.iter_ids(SearchRequest("合同"), ADMIN)) == full


def test_scores_are_text_scores(backend: SearchBackend) -> None:
    """The tier is an order, not part of the reported score (OpenSearch subtracts its tier boosts)."""
    hits = backend.search(SearchRequest("合同", limit=100), ADMIN).hits
    assert all(0.0 <= h.score < FIELDS_BOOST for h in hits)


@pytest.mark.parametrize(
    ("query", "types"),
    [
        ("合同", ("contract",)),
        ("销售合同 光华", ("contract",)),
        ("Quotation", ("quote",)),
        ("purchase order", ("order",)),
        ('"meeting notes"', ("meeting",)),
        ("发票 OR 合同", ("invoice", "contract")),
        ("合同编号", ()),
        ("type:合同 光华", ()),
        ("-合同 光华", ()),
        ("光华物流", ()),
    ],
)
def test_named_types(query: str, types: tuple[str, ...]) -> None:
    """Which types a query names: a type word as a term, the end of a CJK term, or a run of words."""
    assert named_types(parse_query(query)) == types


def test_type_words_cover_the_type_labels() -> None:
    """Every document type's code and Chinese and English labels (ingest.DOC_TYPES) name it in a query."""
    from ingest import DOC_TYPES

    for code, (zh, en) in DOC_TYPES.items():
        if code != "other":
            for word in (code, zh, en):
                assert named_types(parse_query(f'"{word}"')) == (code,), word


# -- the graded judgements of the benchmark -------------------------------------------------

JUDGEMENTS = Path(__file__).resolve().parents[2] / "bench" / "judgements_types.jsonl"


def test_judgements_parse_and_name_dev_files() -> None:
    """bench/judgements_types.jsonl: one query per line, grades 0-3 of dev files that exist, of the right type."""
    rows = [json.loads(line) for line in JUDGEMENTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 20
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["q"].strip() and r["kind"] == "type_word" and r["grades"]
        assert named_types(parse_query(r["q"])) == (r["type"],), r["q"]
        assert all(g in (0, 1, 2, 3) for g in r["grades"].values())
    if not (DEV / "truth.jsonl").is_file():
        pytest.skip("dev corpus not present")
    truth = {
        t["file"]: t["doc_type"]
        for t in map(json.loads, (DEV / "truth.jsonl").read_text(encoding="utf-8").splitlines())
    }
    for r in rows:
        for name, grade in r["grades"].items():
            assert (DEV / name).is_file() and name in truth, name
            assert (grade >= 2) == (truth[name] == r["type"]), (r["q"], name, grade)


def _bench_search():  # type: ignore[no-untyped-def]
    """bench/search.py as a module (bench/ is scripts, not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "bench" / "search.py"
    spec = importlib.util.spec_from_file_location("bench_search_for_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_graded_ndcg_of_the_benchmark() -> None:
    """bench/search.py's nDCG@10: graded gains (2^g - 1), 1.0 for the ideal order, lower for a worse one."""
    bench = _bench_search()
    grades = {"a": 3, "b": 2, "c": 1}
    assert bench._ndcg10(["a", "b", "c"], grades) == pytest.approx(1.0)
    assert bench._ndcg10(["c", "b", "a"], grades) < bench._ndcg10(["b", "a", "c"], grades) < 1.0
    assert bench._ndcg10(["x", "a", "b", "c"], grades) < 1.0
    assert bench._ndcg10([], {}) == 1.0
    assert bench._ndcg10(["a"], {"a": 1}) == pytest.approx(1.0)  # a yes/no judgement is grade 1
    if not (DEV / "queries.jsonl").is_file():
        pytest.skip("dev corpus not present")
    judged = bench.judged_queries(DEV)
    assert sum(q.get("kind") == "type_word" for q in judged) >= 20
    assert all(
        q["q"] and isinstance(q["grades"], dict) for q in judged
    )  # negative queries judge nothing relevant

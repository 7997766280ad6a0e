"""bench/search.py's peers stay runnable: Tantivy (as Paperless-ngx v3) and FTS5 unicode61 (as sist2).

The peers are built from a handful of documents, asked the queries their designs get wrong, and
judged by the same recall/precision code the benchmark prints; a tiny benchmark run prints the
peer table and the judged dev queries.  Nothing here looks at timings.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from index import IndexDocument
from tests.conftest import DEV

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "bench" / "search.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    return _bench()._peers  # type: ignore[no-any-return]


DOCS = [
    IndexDocument(
        id=1,
        title="销售合同",
        text="甲方：光华物流。合同 金额 为 12,000 元。",
        filename="a.pdf",
        doc_type="contract",
    ),
    IndexDocument(
        id=2,
        title="报价单",
        text="本合同金额以报价单为准。Microsoft 365 续订",
        filename="b.docx",
        doc_type="quote",
    ),
    # every bigram of 合同金额 (合同, 同金, 金额) is here, but never the word itself
    IndexDocument(
        id=3, title="纪要", text="金额待定。合同，同金属制品厂谈过", filename="c.txt", doc_type="meeting"
    ),
    IndexDocument(
        id=4, title="发票", text="增值税电子普通发票 the invoice", filename="d.pdf", doc_type="invoice"
    ),
]


def test_plain_queries_are_read_into_words_phrases_exclusions_and_or(peers):
    q = peers.parse_plain('合同 -报价 "Microsoft 365"')
    assert [(c.text, c.phrase, c.negated) for c in q.clauses] == [
        ("合同", False, False),
        ("报价", False, True),
        ("Microsoft 365", True, False),
    ]
    assert not q.any_of
    assert peers.parse_plain("发票 OR 报价").any_of
    assert peers.Fts5Peer.match("发票 OR 报价") == '("发票" OR "报价")'
    assert peers.Fts5Peer.match("合同 -报价") == '"合同" NOT "报价"'
    assert peers.Fts5Peer.match("") == ""


def test_fts5_unicode61_finds_whole_tokens_only(peers):
    fts = peers.Fts5Peer()
    try:
        peers.build(fts, DOCS, 2)
        assert sorted(fts.search("合同").ids) == [1, 3]  # where 合同 stands alone between separators
        assert fts.search("合同金额").total == 0  # a substring of 本合同金额以报价单为准: missed
        answer = fts.search('"Microsoft 365"')
        assert answer.ids == [2] and "<mark>" in answer.snippets[0]
        # only the title 发票 of document 4: 报价单 and 增值税电子普通发票 are single tokens
        assert fts.search("发票 OR 报价").ids == [4]
        assert fts.search("").total == 4
        assert fts.size_bytes() > 0
    finally:
        fts.close()


def test_tantivy_like_paperless_finds_bigrams_anywhere(peers):
    pytest.importorskip("tantivy")
    tan = peers.TantivyPeer()
    try:
        peers.build(tan, DOCS, 2)
        assert sorted(tan.search("合同金额").ids) == [2, 3]  # 3: the bigrams are apart (no positions)
        assert tan.search("厂").total == 0  # one character has no bigram: a substring miss
        assert sorted(tan.search("合同 -报价").ids) == [1, 3]
        assert tan.search("invoice").ids == [4]
        assert "<b>" in tan.search("invoice").snippets[0]
        assert tan.search("").total == 4
        assert tan.size_bytes() > 0
    finally:
        tan.close()


def test_judging_counts_misses_and_scattered_hits(peers):
    files = {1: "a.pdf", 2: "b.docx", 3: "c.txt", 4: "d.pdf"}
    texts = {d.id: f"{d.title}\n{d.text}" for d in DOCS}
    queries = [
        {"id": "Q1", "q": "合同金额", "match": "substring_ci", "terms": ["合同金额"], "relevant": ["b.docx"]},
        {"id": "Q2", "q": "厂", "match": "substring_ci", "terms": ["厂"], "relevant": ["c.txt"]},
    ]
    found = {"合同金额": [2, 3], "厂": []}
    judged = peers.judge(
        lambda q: peers.Answer(len(found[q]), found[q], ["<b>x</b>"] * len(found[q])), queries, files, texts
    )
    assert (judged.relevant, judged.found, judged.hits, judged.good) == (2, 1, 2, 1)
    assert judged.substring_misses == 1  # c.txt holds 厂 and was not found
    assert judged.scattered == 1  # document 3 lacks 合同金额 as written
    assert judged.highlighted == 2
    assert "recall" in judged.line("x") and judged.misses == ["Q2 '厂' missed c.txt"]


@pytest.mark.skipif(not DEV.is_dir(), reason="needs the dev corpus")
def test_a_tiny_bench_run_prints_the_peers_beside_dossier(capsys):
    bench = _bench()
    bench.main(["--docs", "40", "--batch", "10", "--repeat", "1", "--corpus", str(DEV)])
    out = capsys.readouterr().out
    assert "peak RSS" in out
    assert "peers: the same documents" in out
    names = ["dossier", "fts5"] + (["tantivy"] if not bench._peers.tantivy_missing() else [])
    table = out.split("peers: the same documents", 1)[1]
    for name in names:
        assert f"\n  {name} " in table
    judged = out.split("judged dev queries", 1)[1]
    assert "dossier embedded" in judged and "recall" in judged and "substring misses" in judged


@pytest.mark.skipif(not DEV.is_dir(), reason="needs the dev corpus")
def test_the_bench_measures_the_tantivy_backend_when_asked(capsys):
    bench = _bench()
    if bench._peers.tantivy_missing():
        pytest.skip("tantivy is not installed")
    bench.main(
        ["--docs", "60", "--batch", "10", "--repeat", "2", "--corpus", str(DEV), "--backend", "tantivy"]
    )
    out = capsys.readouterr().out
    assert "backend:          tantivy" in out and "documents:        60" in out
    assert "(Tantivy directory)" in out
    assert "tantivy    latency ms: p50" in out and "first round" in out
    judged = out.split("judged dev queries", 1)[1]
    assert "dossier tantivy" in judged and "recall" in judged


def test_the_bench_says_how_to_get_tantivy(peers, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_tantivy(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "tantivy":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tantivy)
    assert "requirements-dev.txt" in peers.tantivy_missing()

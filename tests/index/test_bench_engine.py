"""bench/_tantivy_engine.py, the engine study of issue 18: Tantivy fed Dossier's entries finds what FTS5 finds.

The study is only worth its numbers if both engines answer the same question.  Here both index the
same generated documents and the judged dev documents from the same entries, and every plain query
of the benchmark's mix, every dev query and a set of awkward ones (prefixes, quoted phrases, pinyin,
traditional characters, exclusions, bad input) must give exactly the same set of ids on both, as
an admin and as a sales rep.  A tiny ``bench/engine.py`` run prints its table.  No timings.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from index import Principal, SearchRequest, open_backend
from index._sqlite_entry import entry_of

pytest.importorskip("tantivy")

ROOT = Path(__file__).resolve().parents[2]

AWKWARD = (
    "合同*",
    "光华*",
    '"合同金额"',
    '"Microsoft 365"',
    "guanghua",
    "ghwl",
    "報價單",
    "臺灣",
    "合同 -报价",
    "发票 OR 报价 OR 合同",
    '"未闭合的引号',
    "😀 合同",
    "\ue000报价",
    "的" * 300,
    "2024年5月12日",
    "13874239246",
    "Pacfic Rim",
    "-合同",
)


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    search = _load("bench_search_for_engine", ROOT / "bench" / "search.py")
    study = _load("bench_tantivy_engine", ROOT / "bench" / "_tantivy_engine.py")
    truths, customers, queries = search.load_corpus(search.CORPUS)
    rng = random.Random(42)
    docs = [
        replace(
            search.make_doc(i, truths, customers, rng),
            customer_ids=(i % 7 + 1,),
            access_customer_ids=(i % 7 + 1,),
            lifecycle="archived" if i % 11 == 0 else "active",
        )
        for i in range(1500)
    ]
    dev, _ = search.dev_documents(search.CORPUS, {})
    docs += [replace(d, id=d.id + 1_000_000) for d in dev]
    home = tmp_path_factory.mktemp("engine")
    backend = open_backend(search._engine(home / "embedded.db"))
    backend.index(docs)
    tantivy = study.TantivyEngine(home / "tantivy")
    tantivy.add((d, entry_of(d)) for d in docs)
    tantivy.finish()
    requests = [
        r
        for cat, r in search.query_set(queries, customers, truths)
        if cat in ("corpus", "common", "phrase", "syntax")
    ]
    requests += [SearchRequest(q["q"]) for q in queries]
    requests += [SearchRequest(q) for q in AWKWARD]
    yield backend, tantivy, requests
    tantivy.close()


PRINCIPALS = {
    "admin": Principal.system(),
    "sales": Principal("s", "sales"),
    "owner": Principal(
        "o", "sales", owned_customer_ids=frozenset({2, 5})
    ),  # reads their customers' confidential
    "finance": Principal("f", "finance"),
}


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
def test_every_query_finds_the_same_documents_on_both_engines(engines, role):
    backend, tantivy, requests = engines
    principal = PRINCIPALS[role]
    differ = []
    found_any = 0
    for req in requests:
        fts5 = set(backend.iter_ids(req, principal))
        other = tantivy.match_ids(req, principal)
        found_any += bool(fts5)
        if fts5 != other:
            differ.append((req.query[:40], len(fts5), len(other)))
    assert differ == []
    assert found_any > len(requests) * 0.8  # the comparison is over real answers, not empty sets


@pytest.mark.parametrize("role", sorted(PRINCIPALS))
@pytest.mark.parametrize("query", ["合同", "报价 服务器", "光华*", "发票 OR 报价", ""])
def test_facets_and_lifecycle_counts_are_the_embedded_index_s(engines, role, query):
    backend, tantivy, _ = engines
    principal = PRINCIPALS[role]
    mine = backend.search(SearchRequest(query, limit=5), principal)
    total, _, facets = tantivy.search(SearchRequest(query), principal, limit=5)
    assert total == mine.total
    assert set(facets) == set(mine.facets) | {"lifecycle"}
    for name, counts in mine.facets.items():
        theirs = dict(facets[name])
        if len(counts) < 50:  # past the limit, ties at the cut may fall either way
            assert dict(counts) == theirs, name
        else:
            assert all(theirs.get(k, n) == n for k, n in counts), name
    assert dict(facets["lifecycle"]) == dict(mine.facets.get("lifecycle", []))


def test_counts_pages_and_facets_come_from_one_query(engines):
    backend, tantivy, _ = engines
    admin, sales = Principal.system(), Principal("s", "sales")
    total, ids, facets = tantivy.search(SearchRequest("合同"), admin, limit=20)
    assert total == backend.search(SearchRequest("合同", limit=1), admin).total
    assert len(ids) == 20 and len(set(ids)) == 20
    assert sum(n for _, n in facets["doc_type"]) == total  # every match has exactly one type
    sales_total, sales_ids, _ = tantivy.search(SearchRequest("合同"), sales, limit=1000)
    assert sales_total < total
    assert sales_total == backend.search(SearchRequest("合同", limit=1), sales).total
    hidden = set(backend.iter_ids(SearchRequest("合同"), admin)) - set(
        backend.iter_ids(SearchRequest("合同"), sales)
    )
    assert hidden and not hidden & set(sales_ids)


def test_a_small_engine_run_prints_both_engines_and_no_differing_totals():
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "engine.py"),
            "--docs",
            "300",
            "--repeat",
            "1",
            "--batch",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    for line in ("analysis (entry_of):", "FTS5 write:", "Tantivy write:", "tantivy+snippets", "dossier"):
        assert line in out
    assert "totals that differ:   0 of 95" in out


def test_a_small_tantivy_only_run_builds_with_workers_and_answers_the_mix():
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "engine.py"),
            "--docs",
            "2500",
            "--repeat",
            "1",
            "--tantivy-only",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    assert "documents:            2,500 in" in out
    assert "95 plain x 1" in out and "tantivy" in out

"""Benchmark "did you mean" on a kept embedded index: what a query that finds nothing pays for its suggestions.

    .venv/bin/python bench/search.py --docs 100000 --db /tmp/bench.db    # build once, keep the file
    .venv/bin/python bench/typos.py --db /tmp/bench.db
    .venv/bin/python bench/typos.py --opensearch-docs 20000    # OpenSearch: builds its own alias, dropped after

Opens the index, puts the corpus customers (full names, short names as aliases) into a records
database of its own (a temporary file), and runs mistyped queries — each customer short name with
one character changed, dropped or doubled, Latin words with one or two letters wrong, and words
that are nothing at all — as an admin and as a sales user.  Prints p50/p95 of the search alone and
of the suggestions (:func:`dossier.app.did_you_mean.suggestions`) alone, how often something was
offered, and a few examples.  The first call fills the vocabulary from FTS5 when the index was
written before the vocabulary table existed; that one-time cost is printed on its own.  Nothing
here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import CORPUS, _engine, build, load_corpus

from dossier.app import did_you_mean
from index import OpenSearchBackend, Principal, SearchRequest, add_user_words, open_backend
from records import Base, Customer

_NOISE = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就年同说"


def _mistyped(text: str, rng: random.Random) -> str:
    """``text`` with one character changed, dropped or doubled (Latin letters stay Latin)."""
    i = rng.randrange(len(text))
    if text[i] == " ":
        i = max(0, i - 1)
    how = rng.choice(("change", "drop", "double"))
    if how == "drop" and len(text) > 2:
        return text[:i] + text[i + 1 :]
    if how == "double":
        return text[: i + 1] + text[i:]
    other = rng.choice("abcdefghijklmnopqrstuvwxyz") if text[i].isascii() else rng.choice(_NOISE)
    return text[:i] + other + text[i + 1 :]


def queries(customers: list[dict[str, Any]], rng: random.Random) -> list[str]:
    """Mistyped short names, mistyped Latin words of the corpus, and words nobody wrote."""
    out = [_mistyped(c["short_name"], rng) for c in customers if len(c["short_name"]) >= 3]
    for word in ("logistics", "invoice", "shipment", "quotation", "contract", "pharma", "industrial"):
        out.append(_mistyped(_mistyped(word, rng), rng))
    out += ["zqxjvw", "光华物留 报价单", "Pacfic Rim", "pacificrim", "覅覅覅覅", "qwertyuiop 合同"]
    return out


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


def main(argv: list[str] | None = None) -> None:
    """Open, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=None, help="an index kept by bench/search.py --db")
    ap.add_argument(
        "--opensearch-docs",
        type=int,
        default=0,
        help="instead: build this many documents into an OpenSearch alias (DOSSIER_OPENSEARCH_URL), drop it after",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args(argv)
    _truths, customers, _queries = load_corpus(args.corpus)
    add_user_words([c["full_name"] for c in customers] + [c["short_name"] for c in customers])
    tmp = tempfile.TemporaryDirectory()
    if args.opensearch_docs:
        url = os.environ.get("DOSSIER_OPENSEARCH_URL", "")
        if not url:
            sys.exit("--opensearch-docs needs DOSSIER_OPENSEARCH_URL")
        backend: Any = OpenSearchBackend(
            _engine(Path(tmp.name) / "outbox.db"), url, index_name="dossier-typos-bench"
        )
        backend.ensure_schema()
        try:
            built = build(backend, args.opensearch_docs, 500, _truths, customers)
            print(f"built:      {built['docs']:,} documents into OpenSearch in {built['seconds']:,.0f} s")
            _measure(backend, customers, args.repeat, tmp.name)
        finally:
            backend._request("DELETE", "/dossier-typos-bench-v*", params={"ignore": 404})
            backend._request("DELETE", "/_index_template/dossier-typos-bench", params={"ignore": 404})
        return
    if args.db is None:
        sys.exit("give --db FILE (an index kept by bench/search.py --db FILE) or --opensearch-docs N")
    _measure(open_backend(_engine(args.db)), customers, args.repeat, tmp.name)


def _measure(backend: Any, customers: list[dict[str, Any]], repeat: int, tmp: str) -> None:
    """The mistyped queries against ``backend``: search and suggestions timed apart, as an admin and a sales user."""
    records = sa.create_engine(f"sqlite:///{Path(tmp) / 'records.db'}")
    Base.metadata.create_all(records)
    sessions = sessionmaker(records)
    with sessions() as session:
        session.add_all(
            Customer(name=c["full_name"], aliases=[c["short_name"]], contacts=[]) for c in customers
        )
        session.commit()
    home: Any = SimpleNamespace(sessions=sessions, backend=backend)
    print(f"documents:  {backend.count():,}")
    started = time.perf_counter()
    backend.similar_words("预热词语")
    print(
        f"vocabulary: first look-up {1000 * (time.perf_counter() - started):,.0f} ms (fills it once if empty)"
    )
    rng = random.Random(18)
    typed = queries(customers, rng)
    principals = [Principal("admin", "admin"), Principal("sales", "sales", owned_customer_ids=frozenset({1}))]
    search_ms: list[float] = []
    suggest_ms: list[float] = []
    offered = 0
    examples: list[tuple[str, list[str]]] = []
    for round_ in range(repeat):
        for n, query in enumerate(typed):
            principal = principals[n % 2]
            request = SearchRequest(query, limit=20)
            started = time.perf_counter()
            total = backend.search(request, principal).total
            search_ms.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            found = did_you_mean.suggestions(home, request, principal, total)
            suggest_ms.append(1000 * (time.perf_counter() - started))
            if round_ == 0:
                offered += bool(found)
                if len(examples) < 12:
                    examples.append((query, [s["query"] for s in found]))
    print(f"queries:    {len(typed)} mistyped x {repeat} (half as sales), {offered} got a suggestion")
    for name, xs in (("search", search_ms), ("suggestions", suggest_ms)):
        print(
            f"{name:<12} p50 {statistics.median(xs):7.1f} ms   p95 {_pct(xs, 95):7.1f} ms   max {max(xs):7.1f} ms"
        )
    for query, found in examples:
        print(f"  {query!r:<28} -> {found}")


if __name__ == "__main__":
    main()

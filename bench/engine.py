"""Issue 18's engine question, measured: Dossier's analysis under FTS5 (the embedded index) and under Tantivy.

Both engines get the very same entries (:func:`index._sqlite_entry.entry_of`, computed once), so
the build numbers split into the analysis (shared) and each engine's write; then both answer the
plain query mix of ``bench/search.py`` (corpus, common, phrase and syntax queries; 1 in 4 as a
sales rep) and the script checks that every answer's total is the same and prints:

- build: analysis docs/s, FTS5 write docs/s, Tantivy write docs/s, index sizes;
- latency p50/p95 of the first round (each query's first run) and of all rounds, for
  * Dossier as it is (:class:`index.SqliteBackend.search`: facets, snippets, tiers),
  * Tantivy: count, top 20, the twelve facets and lifecycle counts, the permission filter inside
    the query (``tantivy``),
  * the same plus Dossier's snippets of the 20 hits from the stored texts (``+snippets``): what a
    Tantivy-backed embedded index would answer;
- the number of queries whose totals differ (0 expected: the match sets are the same, see
  ``tests/index/test_bench_engine.py``).

Run ``python bench/engine.py --docs 100000`` (also part of ``make bench``); needs tantivy
(``requirements-dev.txt``).  See bench/_tantivy_engine.py for what the study leaves out.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _peers
from bench import search as bench_search
from bench._tantivy_engine import TantivyEngine, available
from index import IndexDocument, Principal, SearchRequest, open_backend
from index._query import parse_request
from index._snippet import hit_texts
from index._sqlite_entry import Entry, entry_of, unpack
from index._sqlite_hot import raw


def _pct(xs: list[float], p: float) -> float:
    return bench_search.pct(xs, p)


def _line(name: str, first: list[float], every: list[float]) -> str:
    return (
        f"  {name:<22} first round p50 {statistics.median(first):6.1f}  p95 {_pct(first, 0.95):6.1f}"
        f"   all rounds p50 {statistics.median(every):6.1f}  p95 {_pct(every, 0.95):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    """Build both, measure both, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--tantivy-only",
        action="store_true",
        help="build and ask the Tantivy index alone, analysing in one process per CPU (for --docs 1000000,"
        " where bench/search.py gives the embedded index's numbers)",
    )
    args = ap.parse_args(argv)
    if not available():
        sys.exit("bench/engine.py needs tantivy: pip install -r requirements-dev.txt")
    if args.tantivy_only:
        tantivy_only(args)
        return
    truths, customers, queries = bench_search.load_corpus(bench_search.CORPUS)
    tmp = tempfile.TemporaryDirectory()
    sqlalchemy_engine = bench_search._engine(Path(tmp.name) / "engine.db")
    backend = open_backend(sqlalchemy_engine)
    tantivy = TantivyEngine(Path(tmp.name) / "tantivy")
    rng = random.Random(42)
    analysis = fts5 = tv = 0.0
    batch = []
    for i in range(args.docs):
        batch.append(bench_search.make_doc(i, truths, customers, rng))
        if len(batch) == args.batch or i == args.docs - 1:
            t0 = time.perf_counter()
            rows = [(d, entry_of(d)) for d in batch]
            t1 = time.perf_counter()
            backend.write_entries(rows)
            t2 = time.perf_counter()
            tantivy.add(rows)
            t3 = time.perf_counter()
            analysis, fts5, tv = analysis + t1 - t0, fts5 + t2 - t1, tv + t3 - t2
            batch = []
            if (i + 1) % 20_000 == 0:
                print(f"  {i + 1:,} documents", flush=True)
    t0 = time.perf_counter()
    tantivy.finish()
    tv += time.perf_counter() - t0
    n = args.docs
    print(f"documents:            {n:,}")
    print(f"analysis (entry_of):  {n / analysis:,.0f} docs/s  (one process, shared by both engines)")
    print(
        f"FTS5 write:           {n / fts5:,.0f} docs/s  (the embedded index's writer: FTS5 and side tables)"
    )
    print(f"Tantivy write:        {n / tv:,.0f} docs/s  (add + commit + merge)")
    fts_bytes, side = bench_search.sqlite_size(sqlalchemy_engine)
    mb = 1024 * 1024
    print(f"size:                 FTS5 {fts_bytes / mb:,.1f} MB (+ side tables {side / mb:,.1f} MB)")
    print(f"                      Tantivy {tantivy.size_bytes() / mb:,.1f} MB")

    requests = [req for cat, req in bench_search.query_set(queries, customers, truths) if cat in _peers.PLAIN]
    admin, sales = Principal.system(), Principal("s", "sales")
    who = [sales if k % 4 == 3 else admin for k in range(len(requests))]
    for req in [*requests[:5], SearchRequest("13800138000")]:  # caches, and the phone parser's import
        backend.search(req, admin)
        tantivy.search(req, admin)
    timings: dict[str, list[float]] = {"dossier": [], "tantivy": [], "tantivy+snippets": []}
    differ = 0
    with sqlalchemy_engine.connect() as conn:
        cursor = raw(conn)
        for _ in range(args.repeat):
            for req, principal in zip(requests, who, strict=True):
                t0 = time.perf_counter()
                mine = backend.search(req, principal)
                t1 = time.perf_counter()
                total, ids, _ = tantivy.search(req, principal)
                t2 = time.perf_counter()
                _snippets(cursor, ids, req)
                t3 = time.perf_counter()
                timings["dossier"].append((t1 - t0) * 1000)
                timings["tantivy"].append((t2 - t1) * 1000)
                timings["tantivy+snippets"].append((t3 - t1) * 1000)
                differ += total != mine.total
        conn.rollback()
    print(f"queries:              {len(requests)} plain x {args.repeat}, limit 20, facets, 1 in 4 as sales")
    for name, every in timings.items():
        print(_line(name, every[: len(requests)], every))
    print(f"totals that differ:   {differ} of {len(requests) * args.repeat}")
    print(f"peak RSS:             {_peers.peak_rss_mb():,.0f} MB")
    tantivy.close()


def _entries(docs: list[IndexDocument]) -> list[tuple[IndexDocument, Entry]]:
    """The entries of ``docs`` (in a worker process)."""
    return [(d, entry_of(d)) for d in docs]


def tantivy_only(args: argparse.Namespace) -> None:
    """The Tantivy side alone: build (analysis in a process per CPU) and the plain query mix."""
    import multiprocessing

    truths, customers, queries = bench_search.load_corpus(bench_search.CORPUS)
    tmp = tempfile.TemporaryDirectory()
    tantivy = TantivyEngine(Path(tmp.name) / "tantivy", memory_mb=512)
    rng = random.Random(42)
    started = time.perf_counter()
    done = 0
    processes = max(1, os.cpu_count() or 1)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pending: list[Any] = []  # a few batches in flight: generated here, analysed there, in order
        for start in range(0, args.docs, 2_000):
            batch = [
                bench_search.make_doc(i, truths, customers, rng)
                for i in range(start, min(start + 2_000, args.docs))
            ]
            pending.append(pool.apply_async(_entries, (batch,)))
            while len(pending) > 2 * processes or (pending and start + 2_000 >= args.docs):
                rows = pending.pop(0).get()
                tantivy.add(rows)
                done += len(rows)
                if done % 20_000 == 0:
                    print(
                        f"  {done:,} documents ({done / (time.perf_counter() - started):,.0f} docs/s)",
                        flush=True,
                    )
    tantivy.finish()
    seconds = time.perf_counter() - started
    print(
        f"documents:            {args.docs:,} in {seconds:,.0f} s = {args.docs / seconds:,.0f} docs/s (analysis included)"
    )
    print(f"size:                 Tantivy {tantivy.size_bytes() / 1024 / 1024:,.1f} MB")
    requests = [req for cat, req in bench_search.query_set(queries, customers, truths) if cat in _peers.PLAIN]
    admin, sales = Principal.system(), Principal("s", "sales")
    who = [sales if k % 4 == 3 else admin for k in range(len(requests))]
    for req in [*requests[:5], SearchRequest("13800138000")]:  # caches, and the phone parser's import
        tantivy.search(req, admin)
    every: list[float] = []
    slow: list[tuple[float, str]] = []
    for _ in range(args.repeat):
        for req, principal in zip(requests, who, strict=True):
            t0 = time.perf_counter()
            tantivy.search(req, principal)
            every.append((time.perf_counter() - t0) * 1000)
            slow.append((every[-1], req.query))
    print(f"queries:              {len(requests)} plain x {args.repeat}, limit 20, facets, 1 in 4 as sales")
    print(_line("tantivy", every[: len(requests)], every))
    for ms, query in sorted(slow, reverse=True)[:5]:
        print(f"    {ms:7.1f} ms  {query!r}")
    print(f"peak RSS:             {_peers.peak_rss_mb():,.0f} MB")
    tantivy.close()


def _snippets(cursor: object, ids: list[int], req: SearchRequest) -> list[str]:
    """Dossier's snippets of ``ids`` from the stored texts (what the embedded index does for a page)."""
    if not ids:
        return []
    parsed = parse_request(req)
    terms = [t.text for t in parsed.positive_terms]
    marks = ", ".join("?" * len(ids))
    rows = cursor.execute(  # type: ignore[attr-defined]
        f"SELECT title, meta, content FROM search_body WHERE id IN ({marks})", ids
    ).fetchall()
    return [hit_texts(title, meta, unpack(blob)[0], terms, [])[0] for title, meta, blob in rows]


if __name__ == "__main__":
    main()

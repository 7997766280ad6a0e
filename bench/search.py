"""Benchmark the search backends: build speed, size, query latency, and (OpenSearch) agreement.

Builds an index of ``--docs`` documents (default 100,000) in a temporary SQLite
file by varying the dev corpus texts (customer names swapped, numbers and dates
changed, lines shuffled, so documents differ), then runs a mixed query set and
prints numbers.  Nothing here asserts on timing.

``--backend opensearch`` (needs ``DOSSIER_OPENSEARCH_URL`` or ``--opensearch-url``) builds the
same documents into both the embedded index and OpenSearch (bulk, as ``dossier reindex``
does), runs the same query mix against both and prints the numbers side by side, plus how
often both return the same total, the same first page and the same top hit; then it checks
the judged dev queries on the dev corpus in both (same documents found, and each backend's
graded nDCG@10 over the corpus's queries and the type-word queries of ``bench/judgements_types.jsonl``).

``--recall`` instead indexes the dev corpus once and prints recall and precision of every
judged query, overall, per kind and over the (query, scanned file) pairs.  Scanned files are
indexed from their truth text unless ``--ocr-cache FILE`` is given: then from the OCR text in
that JSON file (``{file: [page texts]}``), which is written first with ``ingest.ocr_pages``
(``--ocr-engine``, default rapidocr) when it does not exist yet.  It ends with the embedded
backend's graded nDCG@10; with ``DOSSIER_OPENSEARCH_URL`` (or ``--opensearch-url``) set it then
compares both backends on the judged dev queries, as ``--backend opensearch`` does.

    .venv/bin/python bench/search.py --docs 100000
    .venv/bin/python bench/search.py --docs 100000 --backend opensearch
    .venv/bin/python bench/search.py --recall --ocr-cache /tmp/dev-scans.rapidocr.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _peers
from index import (
    IndexDocument,
    OpenSearchBackend,
    Principal,
    SearchBackend,
    SearchRequest,
    TantivyBackend,
    format_name,
    open_backend,
)

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev"
TAGS = ("重要", "待跟进", "已归档", "VIP", "年度框架", "招标")
LEVELS = ("public", "internal", "internal", "internal", "confidential", "finance")
_DIGITS = re.compile(r"\d{3,}")


def load_corpus(corpus: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """(truth records with expect ok and text, customers, queries)."""
    truths = []
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        if t.get("expect") != "ok":
            continue
        text = t.get("text") or ""
        for att in t.get("attachments") or []:
            text += "\n" + (att.get("text") or "")
        if text.strip():
            t["full_text"] = text
            truths.append(t)
    customers = json.loads((corpus / "customers.json").read_text(encoding="utf-8"))["customers"]
    queries = [json.loads(x) for x in (corpus / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    return truths, customers, queries


def make_doc(i: int, truths: list[dict], customers: list[dict], rng: random.Random) -> IndexDocument:
    """A varied copy of one corpus document."""
    base = truths[i % len(truths)]
    text = base["full_text"]
    title = base.get("title") or base["file"]
    names = []
    by_full = {c["full_name"]: c for c in customers}
    for full in base.get("customers") or []:
        src = by_full.get(full)
        dst = rng.choice(customers)
        names.append(dst["full_name"])
        if src is not None:
            for a, b in ((src["full_name"], dst["full_name"]), (src["short_name"], dst["short_name"])):
                text = text.replace(a, b)
                title = title.replace(a, b)
    if i >= len(truths):
        text = _DIGITS.sub(
            lambda m: (
                "".join(rng.choice("0123456789") for _ in m.group()) if rng.random() < 0.5 else m.group()
            ),
            text,
        )
        lines = text.split("\n")
        if len(lines) > 6:
            k = rng.randrange(1, len(lines) - 3)
            lines[k], lines[k + 1] = lines[k + 1], lines[k]
        text = "\n".join(lines)
    year = rng.randint(2019, 2025)
    date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    entities = tuple(
        (kind, str(value))
        for kind in FIELD_KINDS
        for value in (base.get("entities") or {}).get(kind) or ()
        if value
    )
    return IndexDocument(
        id=i + 1,
        title=title,
        text=text,
        filename=Path(base["file"]).name,
        doc_type=base.get("doc_type") or "other",
        customers=tuple(names),
        tags=tuple(rng.sample(TAGS, rng.randint(0, 2))),
        confidentiality=rng.choice(LEVELS),
        date=date,
        created_at=f"{date}T{rng.randint(8, 18):02d}:00:00",
        entities=entities,
        file_format=format_name(str(base.get("format") or "")) or "other",
        scan=bool(base.get("scanned")),
    )


#: Entity kinds the documents carry (from the corpus truth), for the field queries of the mix.
FIELD_KINDS = ("phone", "amount", "contract_no", "invoice_no", "quote_no", "order_no", "email")


def field_queries(truths: list[dict]) -> list[str]:
    """``phone:…``, ``amount:…``, ``contract:…`` … queries for values the corpus documents state."""
    out: list[str] = []
    for kind, field in (
        ("phone", "phone"),
        ("amount", "amount"),
        ("contract_no", "contract"),
        ("invoice_no", "invoice"),
    ):
        values = [v for t in truths for v in (t.get("entities") or {}).get(kind) or () if v]
        out.extend(f"{field}:{v}" for v in values[:3])
    return out


def query_set(
    queries: list[dict], customers: list[dict], truths: list[dict] | tuple[dict, ...] = ()
) -> list[tuple[str, SearchRequest]]:
    """(category, request) pairs: corpus queries, common words, phrases, filters, sorts, field queries."""
    out = [("corpus", SearchRequest(q["q"])) for q in queries]
    out += [("field", SearchRequest(q)) for q in field_queries(list(truths))]
    out += [
        ("format", SearchRequest("合同", formats=("pdf",))),
        ("format", SearchRequest("", formats=("word", "excel"))),
        ("format", SearchRequest("发票", scans_only=True)),
    ]
    for w in ("合同", "报价", "公司", "有限公司", "服务器", "金额", "发票", "客户", "2024", "the"):
        out.append(("common", SearchRequest(w)))
    for p in ('"合同金额"', '"技术服务"', '"增值税电子普通发票"', "付款方式", '"Microsoft 365"'):
        out.append(("phrase", SearchRequest(p)))
    shorts = [c["short_name"] for c in customers[:6]]
    for s in shorts:
        out.append(("filter", SearchRequest("合同", customers=(s,))))
        out.append(("filter", SearchRequest(f"customer:{s} 报价")))
    out += [
        (
            "filter",
            SearchRequest("服务器", doc_types=("quote",), date_from="2023-01-01", date_to="2024-12-31"),
        ),
        ("filter", SearchRequest("type:contract 金额", tags=("重要",))),
        ("sort", SearchRequest("合同", sort="date_desc")),
        ("sort", SearchRequest("报价 服务器", sort="date_asc", offset=40)),
        ("syntax", SearchRequest("合同 -报价")),
        ("syntax", SearchRequest("发票 OR 报价")),
        ("syntax", SearchRequest("厂")),
        ("syntax", SearchRequest("")),
    ]
    return out


def ocr_cache(corpus: Path, cache: Path, engine_name: str) -> dict[str, list[str]]:
    """OCR text of every scanned dev file, ``{file: [page texts]}``, read from ``cache`` or written to it."""
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    from ingest import ocr_pages, resolve_engine

    engine = resolve_engine(engine_name)
    out: dict[str, list[str]] = {}
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        if t.get("scanned") and t.get("expect") == "ok":
            path = corpus / t["file"]
            out[t["file"]] = [p.text for p in ocr_pages(path.read_bytes(), path.name, engine=engine)]
            print(f"  OCR {t['file']}: {len(out[t['file']])} page(s)", flush=True)
    cache.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def dev_documents(corpus: Path, scans: dict[str, list[str]]) -> tuple[list[IndexDocument], dict[int, str]]:
    """The dev corpus as index documents (scans from ``scans`` when given) and their files by id."""
    truths, _, _ = load_corpus(corpus)
    files: dict[int, str] = {}
    docs = []
    for i, t in enumerate(truths, start=1):
        text = "\n".join(scans[t["file"]]) if t["file"] in scans else t["full_text"]
        files[i] = t["file"]
        docs.append(
            IndexDocument(
                id=i,
                title=t.get("title") or "",
                text=text,
                filename=Path(t["file"]).name,
                doc_type=t.get("doc_type") or "other",
            )
        )
    return docs, files


def recall(corpus: Path, cache: Path | None, engine_name: str) -> None:
    """Index the dev corpus (scans from OCR text when ``cache`` is given); print recall and precision."""
    truths, _, queries = load_corpus(corpus)
    scans = ocr_cache(corpus, cache, engine_name) if cache is not None else {}
    tmp = tempfile.TemporaryDirectory()
    engine = sa.create_engine(f"sqlite:///{Path(tmp.name) / 'recall.db'}")
    backend = open_backend(engine)
    docs, files = dev_documents(corpus, scans)
    backend.index(docs)
    scanned = {t["file"] for t in truths if t.get("scanned")}
    by_kind: dict[str, list[int]] = {}  # kind -> [relevant, found, hits, relevant hits, marked hits]
    scan_pairs = [0, 0]
    misses: list[str] = []
    false_pos: list[str] = []
    for q in queries:
        hits = backend.search(SearchRequest(q["q"], limit=1000, facets=False), Principal.system()).hits
        found = {files[h.id] for h in hits}
        relevant = set(q["relevant"])
        row = by_kind.setdefault(q["kind"], [0, 0, 0, 0, 0])
        row[0] += len(relevant)
        row[1] += len(relevant & found)
        row[2] += len(found)
        row[3] += len(found & relevant)
        row[4] += sum("<mark>" in h.snippet for h in hits)
        scan_pairs[0] += len(relevant & scanned)
        scan_pairs[1] += len(relevant & scanned & found)
        misses += [f"{q['id']} {q['q']!r} missed {f}" for f in sorted(relevant - found)]
        false_pos += [f"{q['id']} {q['q']!r} also found {f}" for f in sorted(found - relevant)]
    print(
        f"recall ({'OCR text from ' + str(cache) if cache else 'truth text'} for {len(scanned)} scanned files)"
    )
    print(f"  {'kind':<20} {'recall':>12} {'precision':>12} {'marked':>8}")
    totals = [0, 0, 0, 0, 0]
    for kind, row in sorted(by_kind.items()):
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        rec = f"{row[1]}/{row[0]}" if row[0] else "-"
        prec = f"{row[3]}/{row[2]}" if row[2] else "-"
        print(f"  {kind:<20} {rec:>12} {prec:>12} {row[4]:>8}")
    print(
        f"  {'all':<20} {totals[1]}/{totals[0]} = {totals[1] / max(totals[0], 1):.1%}"
        f"   precision {totals[3]}/{totals[2]} = {totals[3] / max(totals[2], 1):.1%}"
        f"   hits with <mark> {totals[4]}/{totals[2]}"
    )
    print(
        f"  scanned files: {scan_pairs[1]}/{scan_pairs[0]} = {scan_pairs[1] / max(scan_pairs[0], 1):.1%}"
        " of (query, relevant scanned file) pairs found"
    )
    judged = judged_queries(corpus)
    scores = {
        q["id"]: _ndcg10(
            [
                files[h.id]
                for h in backend.search(
                    SearchRequest(q["q"], limit=10, facets=False), Principal.system()
                ).hits
            ],
            q["grades"],
        )
        for q in judged
    }
    print(ndcg_line("embedded", scores, judged))
    for line in misses:
        print("  miss:", line)
    for line in false_pos:
        print("  extra:", line)
    engine.dispose()


def _engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-200000")
        cur.close()

    return engine


def build(backend: SearchBackend, n: int, batch_size: int, truths: list[dict], customers: list[dict]) -> dict:
    """Index ``n`` varied documents in batches, as a full reindex does; returns counts and timings."""
    rng = random.Random(42)
    rebuild = backend.start_rebuild(restart=True)
    raw = 0
    started = time.perf_counter()
    batch: list[IndexDocument] = []
    for i in range(n):
        doc = make_doc(i, truths, customers, rng)
        raw += len(doc.text.encode("utf-8"))
        batch.append(doc)
        if len(batch) >= batch_size:
            rebuild.add(batch)
            batch = []
            if (i + 1) % 10_000 == 0:
                print(
                    f"  {backend.name}: indexed {i + 1:,} ({(i + 1) / (time.perf_counter() - started):,.0f} docs/s,"
                    f" peak RSS {_peers.peak_rss_mb():,.0f} MB)",
                    flush=True,
                )
    if batch:
        rebuild.add(batch)
    rebuild.finish()
    seconds = time.perf_counter() - started
    return {"docs": n, "seconds": seconds, "docs_per_s": n / seconds, "raw_bytes": raw}


def sqlite_size(engine: sa.Engine) -> tuple[int, int]:
    """(FTS5 bytes, side-table bytes) of the embedded index."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes = dict(
            conn.exec_driver_sql(
                "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search%' OR name LIKE 'sqlite_autoindex_search%'"
                " GROUP BY name"
            ).all()
        )
    fts = sum(v for k, v in sizes.items() if k.startswith("search_fts"))
    return fts, sum(v for k, v in sizes.items() if not k.startswith("search_fts"))


def opensearch_size(backend: OpenSearchBackend) -> int:
    """Bytes the index behind the alias takes on disk (after a flush and a merge-free refresh)."""
    backend._request("POST", f"/{backend.alias}/_flush", params={"request_timeout": 600})
    stats = backend._request("GET", f"/{backend.alias}/_stats/store")
    return int(stats["_all"]["primaries"]["store"]["size_in_bytes"])


def opensearch_heap(backend: OpenSearchBackend) -> str:
    """The node's JVM heap (used / max) and what the segments of every index hold on heap, in words."""
    stats = backend._request("GET", "/_nodes/stats/jvm,indices")
    out = []
    for node in stats.get("nodes", {}).values():
        mem = node["jvm"]["mem"]
        seg = node["indices"]["segments"]
        out.append(
            f"{node.get('name', '?')}: heap {mem['heap_used_in_bytes'] / 2**20:,.0f} of"
            f" {mem['heap_max_in_bytes'] / 2**20:,.0f} MB, segments {seg['count']:,}"
            f" ({seg.get('memory_in_bytes', 0) / 2**20:,.1f} MB on heap),"
            f" old-gen collections {node['jvm']['gc']['collectors'].get('old', {}).get('collection_count', 0)}"
        )
    return "; ".join(out)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def measure(backend: SearchBackend, requests: list[tuple[str, SearchRequest]], repeat: int) -> dict:
    """Latencies of the query mix (1 in 4 as a sales rep), per category, and each query's first page."""
    admin, sales = Principal.system(), Principal("s", "sales")
    for req in [
        *(r for _, r in requests[:5]),
        SearchRequest("13800138000"),
    ]:  # caches, the phone parser's import
        backend.search(req, admin)
    timings: list[float] = []
    by_cat: dict[str, list[float]] = {}
    slow: list[tuple[float, str]] = []
    pages: list[tuple[int, list[int]]] = []
    for r in range(repeat):
        for k, (cat, req) in enumerate(requests):
            principal = sales if k % 4 == 3 else admin
            t0 = time.perf_counter()
            res = backend.search(req, principal)
            ms = (time.perf_counter() - t0) * 1000
            timings.append(ms)
            by_cat.setdefault(cat, []).append(ms)
            slow.append((ms, f"{req.query!r} total={res.total}"))
            if r == 0:
                pages.append((res.total, [h.id for h in res.hits]))
    first = timings[: len(requests)]  # each query's first run: nothing memoised for it yet
    return {"timings": timings, "by_cat": by_cat, "slow": slow, "pages": pages, "first": first}


def _print_latency(name: str, m: dict) -> None:
    t = m["timings"]
    print(f"{name:<10} latency ms: p50 {statistics.median(t):.1f}  p95 {pct(t, 0.95):.1f}  max {max(t):.1f}")
    if m.get("first") and len(m["first"]) < len(t):
        f = m["first"]
        print(
            f"  first round (each query's first run) p50 {statistics.median(f):.1f}  p95 {pct(f, 0.95):.1f}"
        )
    for cat, xs in m["by_cat"].items():
        print(
            f"  {cat:<10} n={len(xs):<4} p50 {statistics.median(xs):7.1f}  p95 {pct(xs, 0.95):7.1f}  max {max(xs):7.1f}"
        )
    print("  slowest:")
    seen: set[str] = set()
    for ms, what in sorted(m["slow"], reverse=True):
        if what not in seen:
            seen.add(what)
            print(f"    {ms:7.1f} ms  {what}")
        if len(seen) >= 5:
            break


def embedded_setting(args: argparse.Namespace) -> str:
    """The backend setting (``DOSSIER_OPENSEARCH_URL``) of the embedded index ``--backend`` names."""
    return "tantivy" if args.backend == "tantivy" else ""


def directory_size(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def embedded_only(args: argparse.Namespace) -> None:
    """One embedded index alone (``--backend sqlite``, what ``make bench`` runs, or ``tantivy``)."""
    truths, customers, queries = load_corpus(args.corpus)
    tmp = tempfile.TemporaryDirectory()
    engine = _engine(args.db or Path(tmp.name) / "bench.db")
    backend = open_backend(engine, embedded_setting(args))
    built = build(backend, args.docs, args.batch, truths, customers)
    mb = 1024 * 1024
    raw = built["raw_bytes"]
    print(f"backend:          {backend.name}")
    print(f"documents:        {backend.count():,}")
    print(f"build seconds:    {built['seconds']:,.0f}")
    print(
        f"build:            {built['docs']:,} docs in {built['seconds']:,.1f} s = {built['docs_per_s']:,.0f} docs/s"
    )
    print(f"raw text:         {raw / mb:,.1f} MB (UTF-8)")
    if isinstance(backend, TantivyBackend):
        size = directory_size(backend.path)
        print(f"index:            {size / mb:,.1f} MB (Tantivy directory)")
        print(f"ratio:            {size / raw:.2f}x raw")
    else:
        fts, side = sqlite_size(engine)
        size = fts + side
        print(
            f"index:            {size / mb:,.1f} MB  (FTS5 {fts / mb:,.1f} MB + side tables {side / mb:,.1f} MB)"
        )
        print(f"ratio:            {size / raw:.2f}x raw  (FTS5 alone {fts / raw:.2f}x)")
    requests = query_set(queries, customers, truths)
    print(f"queries:          {len(requests)} x {args.repeat} (facets on, limit 20, 1 in 4 as sales)")
    measured = measure(backend, requests, args.repeat)
    _print_latency(backend.name, measured)
    print(f"peak RSS:         {_peers.peak_rss_mb():,.0f} MB (this process: generation, build and queries)")
    run_peers(args, (truths, customers, queries), requests, measured, built["docs_per_s"], size)


def side_by_side(args: argparse.Namespace) -> None:
    """Both backends on the same documents and queries, numbers side by side, and their agreement."""
    url = args.opensearch_url or os.environ.get("DOSSIER_OPENSEARCH_URL", "")
    if not url:
        sys.exit(
            "--backend opensearch needs DOSSIER_OPENSEARCH_URL or --opensearch-url (make opensearch starts a node)"
        )
    truths, customers, queries = load_corpus(args.corpus)
    tmp = tempfile.TemporaryDirectory()
    embedded = open_backend(_engine(Path(tmp.name) / "embedded.db"))
    opensearch = OpenSearchBackend(_engine(Path(tmp.name) / "outbox.db"), url, index_name=args.index)
    opensearch.ensure_schema()
    mb = 1024 * 1024
    requests = query_set(queries, customers, truths)
    try:
        # One backend at a time, each measured right after its own build: OpenSearch merging its
        # fresh segments in the background must not slow the embedded queries, nor the other way round.
        built, measured = {}, {}
        for b in (embedded, opensearch):
            built[b.name] = build(b, args.docs, args.batch, truths, customers)
            if b is opensearch:
                opensearch._request(
                    "POST",
                    f"/{opensearch.alias}/_forcemerge",
                    params={"max_num_segments": 5, "request_timeout": 3600},
                )
            measured[b.name] = measure(b, requests, args.repeat)
        raw = built["sqlite"]["raw_bytes"]
        fts, side = sqlite_size(embedded._engine)  # type: ignore[attr-defined]
        sizes = {"sqlite": fts + side, "opensearch": opensearch_size(opensearch)}
        print(
            f"\n{args.docs:,} documents, {raw / mb:,.1f} MB raw text; {len(requests)} queries x {args.repeat}"
            " (facets on, limit 20, 1 in 4 as sales)"
        )
        print(f"{'':<22}{'embedded (SQLite FTS5)':>24}{'OpenSearch':>16}")
        print(
            f"{'bulk indexing docs/s':<22}{built['sqlite']['docs_per_s']:>24,.0f}{built['opensearch']['docs_per_s']:>16,.0f}"
        )
        print(
            f"{'build seconds':<22}{built['sqlite']['seconds']:>24,.0f}{built['opensearch']['seconds']:>16,.0f}"
        )
        print(f"{'index size MB':<22}{sizes['sqlite'] / mb:>24,.1f}{sizes['opensearch'] / mb:>16,.1f}")
        for label, p in (("search p50 ms", 0.5), ("search p95 ms", 0.95), ("search max ms", 1.0)):
            a, b = (pct(measured[n]["timings"], p) for n in ("sqlite", "opensearch"))
            print(f"{label:<22}{a:>24.1f}{b:>16.1f}")
        pairs = list(zip(measured["sqlite"]["pages"], measured["opensearch"]["pages"], strict=True))
        same_total = sum(a[0] == b[0] for a, b in pairs)
        same_set = sum(set(a[1]) == set(b[1]) for a, b in pairs)
        same_top = sum(a[1][:1] == b[1][:1] for a, b in pairs)
        print(
            f"agreement over the query mix: same total {same_total}/{len(pairs)}, same first page (as a set)"
            f" {same_set}/{len(pairs)}, same top hit {same_top}/{len(pairs)}"
        )
        for (cat, req), (a, b) in zip(requests, pairs, strict=True):
            if a[0] != b[0]:
                print(f"  total differs: {cat} {req.query!r}: embedded {a[0]}, OpenSearch {b[0]}")
        print()
        _print_latency("embedded", measured["sqlite"])
        _print_latency("opensearch", measured["opensearch"])
        print(
            f"peak RSS of this process (generation, embedded build, queries): {_peers.peak_rss_mb():,.0f} MB"
        )
        print(f"OpenSearch after the build and the queries: {opensearch_heap(opensearch)}")
        run_peers(
            args,
            (truths, customers, queries),
            requests,
            measured["sqlite"],
            built["sqlite"]["docs_per_s"],
            fts + side,
        )
        dev_agreement(args.corpus, url, args.index + "-dev")
    finally:
        opensearch._request("DELETE", f"/{args.index}-v*", params={"ignore": 404})
        opensearch._request("DELETE", f"/_index_template/{args.index}", params={"ignore": 404})


#: Graded judgements (0-3) of type-word queries over the dev corpus, beside the corpus's binary ones.
TYPE_JUDGEMENTS = Path(__file__).resolve().parent / "judgements_types.jsonl"


def judged_queries(corpus: Path) -> list[dict]:
    """The dev queries with graded relevance: ``{"id", "q", "kind", "grades": {file: grade}}``.

    The corpus's ``queries.jsonl`` judges relevance as yes/no (grade 1); :data:`TYPE_JUDGEMENTS`
    grades type-word queries: 3 a document of the type the query names whose title, file name
    or customer holds the query's words, 2 another document of that type, 1 one that merely
    mentions them.
    """
    _, _, queries = load_corpus(corpus)
    out = [{**q, "grades": dict.fromkeys(q["relevant"], 1)} for q in queries]
    for line in TYPE_JUDGEMENTS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def _ndcg10(hits: list[str], grades: dict[str, int]) -> float:
    """Graded nDCG of the first ten hits (gain 2^grade - 1); 1.0 when nothing is relevant."""
    ideal_grades = sorted((g for g in grades.values() if g > 0), reverse=True)[:10]
    if not ideal_grades:
        return 1.0
    dcg = sum((2 ** grades.get(name, 0) - 1) / math.log2(rank + 2) for rank, name in enumerate(hits[:10]))
    ideal = sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(ideal_grades))
    return dcg / ideal


def ndcg_line(name: str, scores: dict[str, float], judged: list[dict]) -> str:
    """One backend's mean graded nDCG@10: over every judged query, the type-word ones, the others."""
    typed = [q["id"] for q in judged if q.get("kind") == "type_word"]
    other = [q["id"] for q in judged if q.get("kind") != "type_word"]

    def mean(ids: list[str]) -> float:
        return sum(scores[i] for i in ids) / max(len(ids), 1)

    return (
        f"  {name:<18} nDCG@10 (graded) {mean(typed + other):.4f} over {len(judged)} queries;"
        f" type-word {mean(typed):.4f} ({len(typed)}), others {mean(other):.4f} ({len(other)})"
    )


def dev_agreement(corpus: Path, url: str, alias: str) -> None:
    """The judged dev queries on the dev corpus: do both backends find the same documents?"""
    queries = judged_queries(corpus)
    docs, files = dev_documents(corpus, {})
    tmp = tempfile.TemporaryDirectory()
    embedded = open_backend(_engine(Path(tmp.name) / "dev.db"))
    opensearch = OpenSearchBackend(
        _engine(Path(tmp.name) / "dev-outbox.db"), url, index_name=alias, refresh="true"
    )
    try:
        for b in (embedded, opensearch):
            rebuild = b.start_rebuild(restart=True)
            rebuild.add(docs)
            rebuild.finish()
        same = same_order = same_top = 0
        judged = [
            [0, 0, 0, 0],
            [0, 0, 0, 0],
        ]  # per backend: relevant, found of them, hits, good hits
        ndcg: list[dict[str, float]] = [{}, {}]  # per backend: query id -> graded nDCG@10
        for q in queries:
            found = [
                [
                    files[h.id]
                    for h in b.search(
                        SearchRequest(q["q"], limit=1000, facets=False), Principal.system()
                    ).hits
                ]
                for b in (embedded, opensearch)
            ]
            relevant = {f for f, g in q["grades"].items() if g > 0}
            for row, scores, hits in zip(judged, ndcg, found, strict=True):
                row[0] += len(relevant)
                row[1] += len(relevant & set(hits))
                row[2] += len(hits)
                row[3] += len(set(hits) & relevant)
                scores[q["id"]] = _ndcg10(hits, q["grades"])
            same += set(found[0]) == set(found[1])
            same_order += found[0][:10] == found[1][:10]
            same_top += found[0][:1] == found[1][:1]
            if set(found[0]) != set(found[1]):
                print(
                    f"  dev query {q['id']} {q['q']!r}: embedded {len(found[0])}, OpenSearch {len(found[1])}"
                )
        print(
            f"dev queries ({len(queries)} judged, dev corpus): same documents {same}/{len(queries)},"
            f" same top-10 order {same_order}/{len(queries)}, same top hit {same_top}/{len(queries)}"
        )
        print(f"  judged relevance   {'recall':>14} {'precision':>14}")
        for name, row in zip(("embedded", "OpenSearch"), judged, strict=True):
            print(f"  {name:<18} {row[1]:>6}/{row[0]:<7} {row[3]:>6}/{row[2]:<7}")
        for name, scores in zip(("embedded", "OpenSearch"), ndcg, strict=True):
            print(ndcg_line(name, scores, queries))
    finally:
        opensearch._request("DELETE", f"/{alias}-v*", params={"ignore": 404})
        opensearch._request("DELETE", f"/_index_template/{alias}", params={"ignore": 404})


def peer_names(wanted: bool | None) -> list[str]:
    """The peers to run: both when tantivy imports; FTS5 alone (and how to get tantivy) when not."""
    if wanted is False:
        return []
    missing = _peers.tantivy_missing()
    if missing and wanted:
        sys.exit(missing)
    if missing:
        print(f"\n{missing}; running the FTS5 peer alone")
        return ["fts5"]
    return ["tantivy", "fts5"]


def run_peers(
    args: argparse.Namespace,
    corpus: tuple[list[dict], list[dict], list[dict]],
    requests: list[tuple[str, SearchRequest]],
    measured: dict,
    docs_per_s: float,
    size: int,
) -> None:
    """The peers (bench/_peers.py) on the same documents and plain queries, and on the judged dev queries."""
    names = peer_names(args.peers)
    if not names:
        return
    truths, customers, queries = corpus
    plain = [k for k, (cat, _) in enumerate(requests) if cat in _peers.PLAIN]
    per_round = len(requests)
    timings = [
        ms for r in range(args.repeat) for k in plain for ms in [measured["timings"][r * per_round + k]]
    ]

    def same_docs() -> Iterator[IndexDocument]:
        """The documents build() indexed, generated again from the same seed (streamed)."""
        rng = random.Random(42)
        return (make_doc(i, truths, customers, rng) for i in range(args.docs))

    _peers.compare(
        names,
        same_docs,
        args.batch,
        [requests[k][1].query for k in plain],
        args.repeat,
        {
            "docs_per_s": docs_per_s,
            "size": size,
            "timings": timings,
            "totals": [measured["pages"][k][0] for k in plain],
        },
    )
    docs, files = dev_documents(args.corpus, {})
    tmp = tempfile.TemporaryDirectory()
    backend = open_backend(_engine(Path(tmp.name) / "peers-dev.db"), embedded_setting(args))
    backend.index(docs)

    def dossier(q: str) -> _peers.Answer:
        res = backend.search(SearchRequest(q, limit=1000, facets=False), Principal.system())
        return _peers.Answer(res.total, [h.id for h in res.hits], [h.snippet for h in res.hits])

    _peers.judge_engines(names, docs, files, queries, dossier, embedded_setting(args) or "embedded")


def main(argv: list[str] | None = None) -> None:
    """Build, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument(
        "--db", type=Path, default=None, help="keep the embedded index in this SQLite file (default: temp)"
    )
    ap.add_argument(
        "--backend",
        choices=("sqlite", "tantivy", "opensearch"),
        default="sqlite",
        help="sqlite: the embedded index; tantivy: the embedded Tantivy index (DOSSIER_OPENSEARCH_URL=tantivy);"
        " opensearch: it and the embedded index side by side on the same documents and queries",
    )
    ap.add_argument("--opensearch-url", default="", help="default: DOSSIER_OPENSEARCH_URL")
    ap.add_argument(
        "--index", default="dossier-bench", help="OpenSearch alias for the benchmark (dropped after)"
    )
    ap.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also build the same documents into Tantivy (set up like Paperless-ngx v3) and SQLite FTS5"
        " unicode61 (like sist2) and print their numbers beside Dossier's (default: on; FTS5 alone"
        " when tantivy, a development dependency, is not installed)",
    )
    ap.add_argument("--recall", action="store_true", help="print recall/precision on the dev queries instead")
    ap.add_argument("--ocr-cache", type=Path, default=None, help="with --recall: scans from this OCR cache")
    ap.add_argument("--ocr-engine", default="rapidocr", help="engine that writes a missing --ocr-cache")
    args = ap.parse_args(argv)
    if args.recall:
        recall(args.corpus, args.ocr_cache, args.ocr_engine)
        url = args.opensearch_url or os.environ.get("DOSSIER_OPENSEARCH_URL", "")
        if url:  # both backends on the judged dev queries (graded nDCG@10 per backend)
            dev_agreement(args.corpus, url, args.index + "-dev")
    elif args.backend == "opensearch":
        side_by_side(args)
    else:
        embedded_only(args)


if __name__ == "__main__":
    main()

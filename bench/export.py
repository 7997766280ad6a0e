"""Benchmark exports: 100,000 hits to CSV and XLSX, 1,000 originals to ZIP — time, rows/s, peak RSS.

Builds a data home in a temporary folder (or ``--home``): ``--docs`` documents (default 100,000)
written straight into the records with bulk inserts (document, version, page, customer link,
tags, entities) from varied dev-corpus texts, indexed in the embedded index as a full reindex
does; the first ``--zip`` (default 1,000) of them carry real original files (dev-corpus files,
each made distinct).  Then every export runs in a fresh child process — as ``dossier export``
would — so each peak RSS is that export's own: CSV and XLSX of 10,000 and of all hits (to show
memory stays flat), JSON Lines of all hits, and the ZIP of the originals.  The child reports
its RSS after opening the data home and counting the hits, then (Linux: the kernel's peak mark
restarted there) the highest RSS during the export, so the export's own share is visible.  Nothing here
asserts on timing; the issue's targets are CSV ≥ 20,000 rows/s and peak RSS within 50 MB
between 10,000 and 100,000 hits.

    .venv/bin/python bench/export.py                 # 100,000 documents
    .venv/bin/python bench/export.py --docs 20000    # quicker
    .venv/bin/python bench/export.py --home /tmp/bench-export --keep   # build once, rerun the exports
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev"
WORD = "服务器"
SAMPLE_TAG = "样本一万"  # on the first 10,000 documents
ZIP_TAG = "原件"  # on the first --zip documents, which have real originals
TYPES = ("contract", "quote", "invoice", "meeting", "visit", "email", "order", "proposal")
EXTENSIONS = {".pdf", ".docx", ".xlsx", ".md", ".txt", ".eml", ".html", ".pptx", ".csv"}


def _settings(home: Path):
    from foundation.config import load_settings

    return load_settings(
        environ={
            "DOSSIER_HOME": str(home),
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_WORKERS": "1",
        },
        dotenv=home / "no.env",
    )


def _texts() -> tuple[list[tuple[str, str]], list[str]]:
    """(title, text) pairs from truth.jsonl, and customer names from customers.json."""
    pairs = []
    for line in (CORPUS / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        text = (t.get("text") or "").strip()
        if t.get("expect") == "ok" and text:
            pairs.append((t.get("title") or Path(t["file"]).stem, text[:600]))
    customers = [
        c["full_name"]
        for c in json.loads((CORPUS / "customers.json").read_text(encoding="utf-8"))["customers"]
    ]
    return pairs, customers


def build(home: Path, n: int, n_zip: int) -> None:
    """The data home: n documents in the records and the embedded index, n_zip of them with originals."""
    import sqlalchemy as sa

    from dossier.app.services import Dossier
    from index import IndexDocument
    from records import Customer, Document, DocumentCustomer, EntityRow, Page, Tag, Version

    document_tags = Document.__mapper__.relationships["tags"].secondary

    started = time.perf_counter()
    Dossier.open(_settings(home), require_init=False).init()
    d = Dossier.open(_settings(home))
    pairs, names = _texts()
    rng = random.Random(6)
    files = sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix.lower() in EXTENSIONS and "bad" not in p.parts
    )
    with d.sessions() as session:
        customers = [Customer(name=name) for name in names[:60]]
        tags = [Tag(name=SAMPLE_TAG), Tag(name=ZIP_TAG), Tag(name="重点")]
        session.add_all(customers + tags)
        session.commit()
        customer_ids = [(c.id, c.name) for c in customers]
        tag_ids = {t.name: t.id for t in tags}
    now = datetime.now(UTC).replace(tzinfo=None)
    rebuild = d.backend.start_rebuild(restart=True)
    batch = 2000
    for start in range(0, n, batch):
        docs, versions, pages, links, ents, doc_tags, index_docs = [], [], [], [], [], [], []
        for i in range(start, min(n, start + batch)):
            doc_id = i + 1
            title, text = pairs[i % len(pairs)]
            cid, cname = customer_ids[i % len(customer_ids)]
            amount = f"{rng.randint(1, 9_999_999)}.{rng.randint(0, 99):02d}"
            date = f"{2020 + i % 6}-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
            body = f"{title} 第 {i} 号 {WORD}\n{text}\n合同总价：¥{amount}"
            if i < n_zip:
                source = files[i % len(files)]
                data = source.read_bytes() + f"\n{i}\n".encode()
                sha, size, filename = d.blobs.put(data), len(data), source.name
            else:
                sha, size, filename = f"{i:064x}", len(body.encode()), f"{title}_{i}.txt"
            kind = TYPES[i % len(TYPES)]
            docs.append(
                dict(
                    id=doc_id,
                    title=f"{title} {i}",
                    doc_type=kind,
                    customer_id=cid,
                    confidentiality="internal",
                    status="indexed",
                    language="zh",
                    doc_date=date,
                    amount=Decimal(amount),  # what the extraction step stores (pipeline.amounts)
                    warnings=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            versions.append(
                dict(
                    document_id=doc_id,
                    number=1,
                    sha256=sha,
                    filename=filename,
                    mime="application/octet-stream",
                    size=size,
                    uploaded_by="bench",
                    uploaded_at=now,
                )
            )
            pages.append(dict(document_id=doc_id, number=1, text=body, needs_ocr=False, ocr=False))
            links.append(dict(document_id=doc_id, customer_id=cid, method="given", score=1.0, position=0))
            ents += [
                dict(
                    document_id=doc_id,
                    kind="amount",
                    value=amount,
                    text=f"¥{amount}",
                    page=1,
                    start=0,
                    end=0,
                    valid=True,
                    role="合同总价",
                ),
                dict(
                    document_id=doc_id,
                    kind="contract_no",
                    value=f"HT-{i:07d}",
                    text=f"HT-{i:07d}",
                    page=1,
                    start=0,
                    end=0,
                    valid=True,
                    role="合同编号",
                ),
            ]
            names_of = [SAMPLE_TAG] if i < 10_000 else []
            if i < n_zip:
                names_of.append(ZIP_TAG)
            doc_tags += [dict(document_id=doc_id, tag_id=tag_ids[t]) for t in names_of]
            index_docs.append(
                IndexDocument(
                    id=doc_id,
                    title=f"{title} {i}",
                    text=body,
                    filename=filename,
                    doc_type=kind,
                    customers=(cname,),
                    customer_ids=(cid,),
                    customer_aliases=(cname,),
                    tags=tuple(names_of),
                    confidentiality="internal",
                    date=date,
                    created_at=now.isoformat(),
                    entities=(("amount", amount), ("contract_no", f"HT-{i:07d}")),
                    extra=(f"¥{amount}", f"HT-{i:07d}"),
                )
            )
        with d.engine.begin() as conn:
            for table, rows in (
                (Document, docs),
                (Version, versions),
                (Page, pages),
                (DocumentCustomer, links),
                (EntityRow, ents),
            ):
                conn.execute(sa.insert(table.__table__), rows)
            if doc_tags:
                conn.execute(sa.insert(document_tags), doc_tags)
        rebuild.add(index_docs)
        done = min(n, start + batch)
        if done % 10_000 == 0 or done == n:
            rate = done / (time.perf_counter() - started)
            print(f"  built {done:,} documents ({rate:,.0f}/s)", flush=True)
    rebuild.finish()
    d.close()
    print(f"  data home ready in {time.perf_counter() - started:.0f} s: {home}", flush=True)


def _rss_mb() -> float:
    """Peak RSS of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_mb(field: str) -> float | None:
    """``VmRSS``/``VmHWM`` of this process from /proc, MB (None where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Make the kernel's peak-RSS mark (VmHWM) start again from the current RSS (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(home: Path, fmt: str, tag: str | None, out: Path) -> None:
    """One export in this process; prints one JSON line with its numbers."""
    from dossier.app.services import Dossier
    from index import Principal, SearchRequest

    d = Dossier.open(_settings(home))
    request = SearchRequest(WORD, tags=(tag,) if tag else ())
    d.exports.plan(request, Principal.system(), fmt)  # loads the index columns: part of the baseline
    # The export's own peak: the kernel's high-water mark restarted here (else the process peak so far).
    reset = _reset_peak()
    baseline = (_proc_mb("VmRSS") if reset else None) or _rss_mb()
    started = time.perf_counter()
    plan, chunks = d.exports.stream(request, Principal.system(), fmt, via="bench")
    size = 0
    with out.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            size += len(chunk)
    seconds = time.perf_counter() - started
    peak = (_proc_mb("VmHWM") if reset else None) or _rss_mb()
    print(
        json.dumps(
            {
                "format": fmt,
                "hits": plan.count,
                "seconds": seconds,
                "bytes": size,
                "baseline_mb": baseline,
                "peak_mb": peak,
            }
        )
    )
    d.close()


def run_child(home: Path, fmt: str, tag: str | None, out_dir: Path) -> dict:
    out = out_dir / f"bench.{fmt}"
    cmd = [sys.executable, __file__, "--child", fmt, "--home", str(home), "--out", str(out)]
    if tag:
        cmd += ["--tag", tag]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"export {fmt} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--docs", type=int, default=100_000, help="documents in the data home (default 100,000)"
    )
    parser.add_argument(
        "--zip", type=int, default=1_000, help="documents with originals, exported as ZIP (default 1,000)"
    )
    parser.add_argument("--home", type=Path, help="data home to build (or reuse when it exists)")
    parser.add_argument("--keep", action="store_true", help="keep the data home afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.home, args.child, args.tag, args.out)
        return

    home = args.home or Path(tempfile.mkdtemp(prefix="dossier-bench-export-")) / "home"
    if not (home / "dossier.db").exists():
        print(f"building {args.docs:,} documents ({args.zip:,} with originals) …", flush=True)
        build(home, args.docs, args.zip)
    out_dir = Path(tempfile.mkdtemp(prefix="dossier-bench-out-"))
    small = min(10_000, args.docs)
    runs = [
        ("csv", SAMPLE_TAG),
        ("csv", None),
        ("xlsx", SAMPLE_TAG),
        ("xlsx", None),
        ("jsonl", None),
        ("zip", ZIP_TAG),
    ]
    print(
        f"\nexports of a {args.docs:,}-document home, each in a fresh process; RSS before = after opening the"
        " home and counting the hits, peak = highest RSS during the export:"
    )
    print(
        f"{'format':<7}{'hits':>10}{'seconds':>10}{'rows/s':>10}{'MB out':>9}{'RSS before':>12}{'peak':>8}{'export':>9}"
    )
    results = {}
    try:
        for fmt, tag in runs:
            r = run_child(home, fmt, tag, out_dir)
            results[(fmt, tag)] = r
            print(
                f"{fmt:<7}{r['hits']:>10,}{r['seconds']:>10.1f}{r['hits'] / r['seconds']:>10,.0f}"
                f"{r['bytes'] / 1e6:>9.1f}{r['baseline_mb']:>11.0f}M{r['peak_mb']:>7.0f}M"
                f"{r['peak_mb'] - r['baseline_mb']:>+8.0f}M",
                flush=True,
            )
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        if not args.keep and args.home is None:
            shutil.rmtree(home.parent, ignore_errors=True)
    print()
    for fmt in ("csv", "xlsx"):
        a, b = results[(fmt, SAMPLE_TAG)], results[(fmt, None)]
        print(
            f"{fmt}: peak RSS {small:,} hits {a['peak_mb']:.0f} MB, {b['hits']:,} hits {b['peak_mb']:.0f} MB"
            f" → {b['peak_mb'] - a['peak_mb']:+.0f} MB (target: within 50 MB)"
        )
    csv_all = results[("csv", None)]
    print(
        f"csv: {csv_all['hits'] / csv_all['seconds']:,.0f} rows/s over {csv_all['hits']:,} hits (target ≥ 20,000)"
    )
    z = results[("zip", ZIP_TAG)]
    print(
        f"zip: {z['hits']:,} originals, {z['bytes'] / 1e6:.1f} MB in {z['seconds']:.1f} s"
        f" ({z['bytes'] / 1e6 / z['seconds']:.1f} MB/s)"
    )


if __name__ == "__main__":
    main()

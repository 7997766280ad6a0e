"""Benchmark: OCR accuracy, speed and memory per engine on the dev scans.

Pages: every page of every scanned file in ``dev/truth.jsonl`` (``--limit N``: the first N).
A page is *noisy* when its scanner kept the background (no ``background_removed`` in the
truth's ``scan.pages``: paper tone, uneven light, sensor noise and speckles stay on it; the
corpus README says real scans may look like that), otherwise *clean*.  CER is the edit
distance over whitespace-stripped NFKC strings, against the truth's ``pages``.

For each engine (``--engines``, default ``rapidocr,tesseract``) it prints:

* CER overall, clean/noisy, upright/rotated and per scan dpi, and how often the orientation
  was right, from the run with the fewest worker processes;
* pages/s with 1 and 2 worker processes (``--workers 1,2``), from
  :func:`bare_engine_throughput`: fork the workers, each loads the engine once, then they
  take pages from one shared queue; the clock runs from when every worker has loaded its
  engine until the last page is read;
* per worker: CPU seconds per page (its own plus its children's: robust when other work
  shares the machine) and peak RSS (``VmHWM`` in ``/proc/self/status``); for tesseract also
  the peak of its ``tesseract`` processes (GNU ``time``), which run outside the worker.

``--long-scan N`` also reads one N-page image-only PDF made of the dev scans in a single
``ocr_pages`` call in a fresh worker and prints its peak RSS: what one long scan costs.
No thresholds: it prints numbers.  ``.venv/bin/python bench/ocr.py --limit 6`` is a quick run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ["OMP_THREAD_LIMIT"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from ingest import ENGINES, OcrPage, ocr_pages, resolve_engine  # noqa: E402
from ingest.ocr._engines import DEFAULT_DPI  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


@dataclass(frozen=True)
class ScanPage:
    """One scanned page of the corpus: its file, 1-based number, truth text and scan facts."""

    path: Path
    number: int
    truth: str
    facts: dict[str, Any]

    @property
    def noisy(self) -> bool:
        """The scanner kept the page's background (paper tone, uneven light, noise)."""
        return not self.facts.get("background_removed")


@dataclass(frozen=True)
class WorkerStats:
    """What one worker process did and cost."""

    pages: int
    cpu_s: float
    peak_rss_mb: float
    child_peak_rss_mb: float


@dataclass
class Throughput:
    """One :func:`bare_engine_throughput` run."""

    engine: str
    processes: int
    pages: int
    seconds: float
    workers: list[WorkerStats] = field(default_factory=list)
    results: dict[int, OcrPage] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        """Pages read per wall-clock second, all workers together."""
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def cpu_s_per_page(self) -> float:
        """CPU seconds per page, all workers together."""
        done = sum(w.pages for w in self.workers)
        return sum(w.cpu_s for w in self.workers) / done if done else 0.0


def squash(text: str) -> str:
    """NFKC, no whitespace: how OCR output is compared with the truth."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def cer(got: str, want: str) -> float:
    """Character error rate of ``got`` against ``want``."""
    a, b = squash(got), squash(want)
    return Levenshtein.distance(a, b) / max(len(b), 1)


def scan_pages(corpus: Path = CORPUS, limit: int | None = None) -> list[ScanPage]:
    """Every page of every scanned file in the corpus truth (the first ``limit``)."""
    out = []
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if not rec.get("scanned") or rec.get("expect") != "ok":
            continue
        for i, (text, facts) in enumerate(zip(rec["pages"], rec["scan"]["pages"], strict=False)):
            out.append(ScanPage(corpus / rec["file"], i + 1, text, {"dpi": rec["scan"].get("dpi"), **facts}))
    return out[:limit] if limit else out


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _time_tesseract(folder: Path) -> Path | None:
    """Run tesseract under GNU ``time``, which appends each run's peak RSS (KiB) to a log.

    The worker's own ``RUSAGE_CHILDREN`` would not do: a child's peak includes the copy of
    the worker it was forked from.  Returns the log, or None without ``/usr/bin/time``.
    """
    import pytesseract

    timer = Path("/usr/bin/time")
    real = shutil.which(pytesseract.pytesseract.tesseract_cmd)
    if not timer.exists() or real is None:
        return None
    log, script = folder / "peaks.txt", folder / "tesseract"
    script.write_text(
        f'#!/bin/sh\nexec {timer} -a -o {shlex.quote(str(log))} -f %M {shlex.quote(real)} "$@"\n'
    )
    script.chmod(0o755)
    pytesseract.pytesseract.tesseract_cmd = str(script)
    return log


def _worker(
    engine_name: str,
    pages: Sequence[ScanPage],
    dpi: int,
    options: dict[str, Any],
    ready: Any,
    tasks: Any,
    results: Any,
) -> None:
    """Load the engine, wait for the others, then read pages from ``tasks`` until ``None``."""
    folder = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        engine = resolve_engine(engine_name)
        for name, value in options.items():
            setattr(engine, name, value)
        log = _time_tesseract(folder) if engine_name == "tesseract" else None
    except Exception as exc:  # reported by the parent
        results.put(("error", f"{type(exc).__name__}: {exc}"))
        ready.abort()
        return
    ready.wait()
    cpu0 = os.times()
    done = 0
    while (index := tasks.get()) is not None:
        page = pages[index]
        [result] = ocr_pages(
            page.path.read_bytes(), page.path.name, pages=[page.number], engine=engine, dpi=dpi
        )
        results.put(("page", index, result))
        done += 1
    cpu1 = os.times()
    cpu = sum(cpu1[:4]) - sum(cpu0[:4])  # user + system, own and children's (tesseract)
    peaks = [int(line) for line in log.read_text().split() if line.isdigit()] if log and log.exists() else []
    shutil.rmtree(folder, ignore_errors=True)
    results.put(("done", WorkerStats(done, cpu, _status_mb("VmHWM"), max(peaks, default=0) / 1024)))


def bare_engine_throughput(
    engine: str,
    pages: Sequence[ScanPage],
    processes: int,
    *,
    dpi: int = DEFAULT_DPI,
    options: dict[str, Any] | None = None,
) -> Throughput:
    """OCR ``pages`` with ``processes`` forked workers (engine loaded once in each); time it.

    This is the engine alone (file bytes in, :class:`OcrPage` out, no queue or database):
    compare it with an end-to-end run over the same pages and process count.  ``options``
    are set as attributes on each worker's engine (e.g. ``{"config": "--psm 6"}``).
    """
    ctx = mp.get_context("fork")
    ready = ctx.Barrier(processes + 1)
    tasks, results = ctx.Queue(), ctx.Queue()
    for index in range(len(pages)):
        tasks.put(index)
    for _ in range(processes):
        tasks.put(None)
    workers = [
        ctx.Process(
            target=_worker, args=(engine, pages, dpi, options or {}, ready, tasks, results), daemon=True
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    run = Throughput(engine, processes, len(pages), 0.0)
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()  # broken when a worker could not load the engine; its message is queued
    start = time.perf_counter()
    finished = 0
    while finished < processes:
        message = results.get()
        if message[0] == "error":
            for worker in workers:
                worker.kill()
            raise RuntimeError(f"{engine}: {message[1]}")
        if message[0] == "page":
            run.results[message[1]] = message[2]
        else:
            run.workers.append(message[1])
            finished += 1
    run.seconds = time.perf_counter() - start
    for worker in workers:
        worker.join()
    return run


def pages_per_second(engine: str, pages: Sequence[ScanPage], processes: int, dpi: int = DEFAULT_DPI) -> float:
    """Bare-engine pages/s for ``pages`` with ``processes`` worker processes."""
    return bare_engine_throughput(engine, pages, processes, dpi=dpi).pages_per_s


def accuracy(pages: Sequence[ScanPage], results: dict[int, OcrPage]) -> tuple[dict[str, list[float]], int]:
    """CER per group (all, clean/noisy, upright/rotated, per dpi) and orientation hits."""
    groups: dict[str, list[float]] = {}
    right = 0
    for index, page in enumerate(pages):
        result = results[index]
        value = cer(result.text, page.truth) if result.error is None else 1.0
        turned = page.facts.get("rotation", 0)
        # truth says how the page was turned; the engine reports the turn that undoes it
        right += result.rotation == (360 - turned) % 360
        keys = (
            "all",
            "noisy" if page.noisy else "clean",
            "rotated" if turned else "upright",
            f"{page.facts.get('dpi')}dpi",
        )
        for key in keys:
            groups.setdefault(key, []).append(value)
    return groups, right


def _long_scan_pdf(pages: Sequence[ScanPage], out: Path) -> None:
    """Write the pages' images (grey, 200 dpi) as one image-only PDF (run in a child process)."""
    from PIL import Image

    from ingest._limits import Limits
    from ingest.ocr._engines import _page_images

    images: list[Image.Image] = []
    for page in pages:
        for _number, image in _page_images(
            page.path.read_bytes(), page.path.name, [page.number], Limits(), 200
        ):
            if isinstance(image, Image.Image):
                images.append(reduce_grey(image))
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=200)
    out.write_bytes(buf.getvalue())


def reduce_grey(image: Any) -> Any:
    """A page as an A4-at-200-dpi grey image."""
    from ingest.ocr._prep import scaled

    return scaled(image.convert("L"), 2339 / max(image.size))


def _long_scan_worker(engine_name: str, path: Path, results: Any) -> None:
    engine = resolve_engine(engine_name)
    start = time.perf_counter()
    read = ocr_pages(path.read_bytes(), path.name, engine=engine)
    results.put((read, time.perf_counter() - start, _status_mb("VmHWM")))


def long_scan(
    engine: str, pages: Sequence[ScanPage], n: int, folder: Path
) -> tuple[list[OcrPage], float, float]:
    """Read an ``n``-page PDF of the scans in one ``ocr_pages`` call: (pages, seconds, peak RSS MB)."""
    ctx = mp.get_context("fork")
    chosen = [pages[i % len(pages)] for i in range(n)]
    path = folder / f"long_scan_{n}.pdf"
    maker = ctx.Process(target=_long_scan_pdf, args=(chosen, path))  # keeps the parent small for the fork
    maker.start()
    maker.join()
    results = ctx.Queue()
    worker = ctx.Process(target=_long_scan_worker, args=(engine, path, results))
    worker.start()
    read, seconds, peak = results.get()
    worker.join()
    return read, seconds, peak


def _report(name: str, pages: Sequence[ScanPage], runs: list[Throughput], verbose: bool) -> None:
    first = runs[0]
    groups, right = accuracy(pages, first.results)
    order = ["all", "clean", "noisy", "upright", "rotated", *sorted(k for k in groups if k.endswith("dpi"))]
    parts = "  ".join(
        f"{k}={sum(groups[k]) / len(groups[k]):.2%} (n={len(groups[k])})" for k in order if k in groups
    )
    print(f"{name}: CER {parts}; orientation right on {right}/{len(pages)}")
    if verbose:
        for index, page in enumerate(pages):
            r = first.results[index]
            print(
                f"  {page.path.name}#{page.number} {'noisy' if page.noisy else 'clean'} "
                f"rot={page.facts.get('rotation', 0)}->{r.rotation} cer={cer(r.text, page.truth):.3f} "
                f"conf={r.confidence} {r.error or ''}"
            )
    for run in runs:
        rss = ", ".join(f"{w.peak_rss_mb:.0f}" for w in run.workers)
        child = ", ".join(f"{w.child_peak_rss_mb:.0f}" for w in run.workers)
        extra = f"; tesseract processes peak {child} MB" if name == "tesseract" else ""
        print(
            f"{name}: {run.processes} worker(s): {run.pages_per_s:.2f} pages/s "
            f"({run.seconds:.1f} s for {run.pages} pages), CPU {run.cpu_s_per_page:.2f} s/page, "
            f"peak RSS per worker {rss} MB{extra}"
        )


def main() -> None:
    """Print CER, pages/s and peak RSS per engine."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument(
        "--engines", "--engine", default="rapidocr,tesseract", help="comma-separated engine names"
    )
    ap.add_argument("--workers", default="1,2", help="worker process counts to time, e.g. 1,2")
    ap.add_argument("--dpi", type=int, default=DEFAULT_DPI, help="render DPI for image-only PDFs")
    ap.add_argument("--psm", default=None, help="tesseract --psm override (e.g. 6)")
    ap.add_argument(
        "--long-scan",
        type=int,
        default=0,
        metavar="N",
        help="also read one N-page PDF of the scans in one call and print its peak RSS",
    )
    ap.add_argument("--verbose", action="store_true", help="one line per page")
    args = ap.parse_args()
    pages = scan_pages(args.corpus, args.limit)
    counts = sorted({int(n) for n in args.workers.split(",")})
    print(
        f"{len(pages)} scanned pages from {args.corpus} "
        f"({sum(p.noisy for p in pages)} noisy); {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    for name in [n.strip() for n in args.engines.split(",") if n.strip()]:
        if name not in ENGINES or not ENGINES[name]().available():
            print(f"{name}: not available, skipped")
            continue
        options = {"config": f"--psm {args.psm}"} if args.psm and name == "tesseract" else {}
        runs = [bare_engine_throughput(name, pages, n, dpi=args.dpi, options=options) for n in counts]
        _report(name, pages, runs, args.verbose)
        if args.long_scan:
            with tempfile.TemporaryDirectory(prefix="bench-ocr-") as folder:
                read, seconds, peak = long_scan(name, pages, args.long_scan, Path(folder))
            chosen = [pages[i % len(pages)] for i in range(args.long_scan)]
            mean = sum(cer(r.text, p.truth) for r, p in zip(read, chosen, strict=True)) / len(read)
            print(
                f"{name}: one {len(read)}-page PDF in one call: {seconds:.1f} s, CER {mean:.2%}, "
                f"peak RSS {peak:.0f} MB"
            )


if __name__ == "__main__":
    main()

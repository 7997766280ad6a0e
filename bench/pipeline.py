"""Benchmark: scanned pages per second end to end — take, queue, parse, OCR, store, index.

Ingests the dev corpus scans (truth ``scanned: true``) into a fresh data home through a
private Redis with ``dossier ingest --wait``-style temporary workers, once per worker count,
and prints pages/s, seconds and the peak memory of each worker process tree (the worker and
its parser/OCR child): RSS summed, which counts pages the forked child shares with its
parent twice, and PSS, which splits them fairly.  Compare pages/s with the bare engine's from ``bench/ocr.py`` on the
same pages and cores.  No thresholds: it prints numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dossier.app.services import Dossier  # noqa: E402
from foundation.config import load_settings  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


def scans(corpus: Path) -> list[Path]:
    """The scanned files of the dev corpus."""
    found = []
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        if t.get("scanned") and t["expect"] == "ok":
            found.append(corpus / t["file"])
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mem_kb(pid: int, field: str) -> int:
    """``VmRSS`` from status, or ``Pss`` from smaps_rollup (RSS with pages shared after fork split fairly)."""
    source = "status" if field == "VmRSS" else "smaps_rollup"
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class _TreeRss(threading.Thread):
    """Samples every `dossier worker` process tree under this process; keeps the peak RSS and PSS per tree."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, int] = {}
        self.pss_peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            for pid in _children(me):
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"worker" not in cmd:
                    continue
                tree = [pid, *_children(pid)]
                self.peaks[pid] = max(self.peaks.get(pid, 0), sum(_mem_kb(p, "VmRSS") for p in tree))
                self.pss_peaks[pid] = max(self.pss_peaks.get(pid, 0), sum(_mem_kb(p, "Pss") for p in tree))
            self.stop.wait(1.0)


def run_once(files: list[Path], workers: int, redis_url: str, *, warm: bool) -> dict[str, float]:
    """One fresh data home, one batch of scans, ``workers`` workers; returns the numbers.

    ``warm``: the workers are started (and ready) before the clock starts, as under
    ``dossier serve``; otherwise ``ingest --wait`` starts them and their start-up is timed too.
    """
    from dossier.app.worker_processes import WorkerProcesses

    home = Path(tempfile.mkdtemp(prefix="dossier-bench-pipeline-"))
    try:
        env = {"DOSSIER_HOME": str(home), "DOSSIER_WORKERS": str(workers), "DOSSIER_REDIS_URL": redis_url}
        dossier = Dossier.open(load_settings(environ=env, dotenv=home / "none"), require_init=False)
        dossier.init()
        sampler = _TreeRss()
        sampler.start()
        helpers = None
        if warm:
            helpers = WorkerProcesses(dossier.settings, workers)
            while dossier.queue().live_workers() < workers:
                time.sleep(0.1)
            time.sleep(2)  # the parser child's warm-up
        started = time.perf_counter()
        summary = dossier.ingest_paths(files, workers=workers)
        elapsed = time.perf_counter() - started
        if helpers is not None:
            helpers.stop()
        sampler.stop.set()
        report = dossier.batch_status(summary["batch"])
        pages = report["pages"]["done"]
        return {
            "workers": workers,
            "started": "before" if warm else "by ingest --wait",
            "files": len(files),
            "pages": pages,
            "failed_pages": report["pages"]["failed"],
            "seconds": round(elapsed, 1),
            "pages_per_s": round(pages / elapsed, 3),
            "peak_rss_mb_per_worker": round(max(sampler.peaks.values(), default=0) / 1024, 1),
            "peak_pss_mb_per_worker": round(max(sampler.pss_peaks.values(), default=0) / 1024, 1),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--limit", type=int, default=0, help="only the first N scan files")
    parser.add_argument(
        "--cold", action="store_true", help="let ingest --wait start the workers (start-up timed too)"
    )
    args = parser.parse_args()
    files = scans(args.corpus)[: args.limit or None]
    port = _free_port()
    redis_dir = Path(tempfile.mkdtemp(prefix="dossier-bench-redis-"))
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(redis_dir)],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        for n in args.workers:
            result = run_once(files, n, f"redis://127.0.0.1:{port}/0", warm=not args.cold)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(redis_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: born-digital documents per second into the embedded index.

Ingests every born-digital file of the dev corpus (truth ``expect: ok``, not scanned, not in
bad/) into a fresh data home, ``--rounds`` times, and prints documents/s, pages/s, the mean
pages per document and the peak RSS of the ingesting process and its parser children.
No thresholds: it prints numbers.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dossier.app.services import Dossier  # noqa: E402
from foundation.config import load_settings  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


def born_digital(corpus: Path) -> list[Path]:
    """The dev files a text-layer parser can read (no scans, no hostile files)."""
    files = []
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        if t["expect"] == "ok" and not t.get("scanned") and not t["file"].startswith("bad/"):
            files.append(corpus / t["file"])
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="parser processes (0 = one per core)")
    args = parser.parse_args()
    files = born_digital(args.corpus)
    rates, page_rates = [], []
    for n in range(args.rounds):
        home = Path(tempfile.mkdtemp(prefix="dossier-bench-"))
        try:
            env = {"DOSSIER_HOME": str(home), "DOSSIER_WORKERS": str(args.workers)}
            dossier = Dossier.open(load_settings(environ=env, dotenv=home / "none"), require_init=False)
            dossier.init()
            started = time.perf_counter()
            summary = dossier.ingest_paths(files)
            elapsed = time.perf_counter() - started
            docs = len(summary["documents"])
            with dossier.sessions() as session:
                from records import Page

                pages = session.query(Page).count()
            rates.append(docs / elapsed)
            page_rates.append(pages / elapsed)
            print(
                f"round {n + 1}: {len(files)} files -> {docs} documents ({pages} pages, "
                f"{len(summary['failed'])} failed) in {elapsed:.2f} s = {docs / elapsed:.1f} docs/s, "
                f"{pages / elapsed:.1f} pages/s, {pages / max(docs, 1):.1f} pages/doc"
            )
            dossier.engine.dispose()
        finally:
            shutil.rmtree(home, ignore_errors=True)
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"best {max(rates):.1f} docs/s, median {sorted(rates)[len(rates) // 2]:.1f} docs/s, "
        f"median {sorted(page_rates)[len(page_rates) // 2]:.1f} pages/s"
    )
    print(f"peak RSS: main {rss_self:.0f} MB, largest parser process {rss_children:.0f} MB")


if __name__ == "__main__":
    main()

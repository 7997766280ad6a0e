"""Benchmark: OCR accuracy and speed per engine on the dev scans.

For each engine, OCRs every scanned page of ``dev/scans`` (or the first ``--limit`` pages)
in this process on one core (``OMP_THREAD_LIMIT=1``, one ONNX thread) and prints the
character error rate (CER, edit distance over whitespace-stripped NFKC strings, against
truth ``pages``) overall, for upright vs rotated pages and for 200 vs 300 dpi, plus pages/s
and the orientation-detection hit rate.  ``--dpi`` sets the render DPI for image-only PDFs;
``--psm`` overrides tesseract's page segmentation mode.  No thresholds: it prints numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
import unicodedata
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from ingest import ocr_pages, resolve_engine  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


def squash(text: str) -> str:
    """NFKC, no whitespace: how OCR output is compared with the truth."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def cer(got: str, want: str) -> float:
    """Character error rate of ``got`` against ``want``."""
    a, b = squash(got), squash(want)
    return Levenshtein.distance(a, b) / max(len(b), 1)


def scan_pages(corpus: Path, limit: int | None) -> list[tuple[Path, int, str, dict]]:
    """(file, 1-based page, truth text, scan facts) for every scanned page."""
    out = []
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if not rec.get("file", "").startswith("scans/"):
            continue
        for i, (text, facts) in enumerate(zip(rec["pages"], rec["scan"]["pages"], strict=False)):
            out.append((corpus / rec["file"], i + 1, text, facts))
    return out[:limit] if limit else out


def main() -> None:
    """Print CER and pages/s per engine."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--dpi", type=int, default=300, help="render DPI for image-only PDFs")
    ap.add_argument("--psm", default=None, help="tesseract --psm override (e.g. 3)")
    ap.add_argument("--verbose", action="store_true", help="one line per page")
    args = ap.parse_args()
    pages = scan_pages(args.corpus, args.limit)
    print(f"{len(pages)} scanned pages from {args.corpus}")
    for name in args.engines.split(","):
        engine = resolve_engine(name)
        if args.psm is not None and hasattr(engine, "config"):
            engine.config = f"--psm {args.psm}"
        engine.recognize(__import__("PIL.Image").Image.new("RGB", (200, 100), "white"))  # load models
        groups: dict[str, list[float]] = {}
        seconds = 0.0
        rot_ok = 0
        for path, number, truth, facts in pages:
            t0 = time.perf_counter()
            [page] = ocr_pages(path.read_bytes(), path.name, pages=[number], engine=engine, dpi=args.dpi)
            seconds += time.perf_counter() - t0
            value = cer(page.text, truth) if page.error is None else 1.0
            rotated = facts.get("rotation", 0) != 0
            # truth says how the page was turned; the engine reports the turn that undoes it
            rot_ok += page.rotation == (360 - facts.get("rotation", 0)) % 360
            for key in ("all", "rotated" if rotated else "upright", f"{facts.get('dpi')}dpi"):
                groups.setdefault(key, []).append(value)
            if args.verbose:
                print(f"  {path.name}#{number} rot={facts.get('rotation')}->{page.rotation} "
                      f"cer={value:.3f} conf={page.confidence} {page.error or ''}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        parts = "  ".join(f"{k}={sum(v) / len(v):.2%} (n={len(v)})" for k, v in sorted(groups.items()))
        print(f"{name}: CER {parts}")
        print(f"{name}: {len(pages) / seconds:.2f} pages/s on one core ({seconds / len(pages):.2f} s/page), "
              f"orientation right on {rot_ok}/{len(pages)}, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()

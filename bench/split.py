"""Benchmark: separator finding and splitting on a 30-page scanned stack, and the corpus check.

Builds a 30-page A4 stack (Chinese text pages with scan noise and JPEG loss; a QR separator
sheet or a blank page after every 4 pages) as an image-only PDF and as a JPEG-compressed
multi-page TIFF, at 200 and 300 dpi, and prints ms/page for ``find_separators`` (each
``kinds`` setting) and ``split_at``, plus peak RSS.  Then runs ``find_separators`` over every
PDF/TIFF of ``dev/scans`` and prints what it found (it should find nothing).  Prints numbers,
asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import find_separators, separator_sheet_pdf, split_at  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LINE = "第一条 合同金额为人民币壹拾贰万叁仟元整（¥123,000.00），双方签字盖章后生效。"


def degrade(page: Image.Image, seed: int) -> Image.Image:
    """Grey paper, blur, sensor noise and a JPEG round trip."""
    rng = np.random.default_rng(seed)
    a = np.asarray(page.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32) * 0.93
    a += rng.normal(0, 4, a.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=80)
    return Image.open(buf).convert("L")


def stack(dpi: int) -> tuple[list[Image.Image], list[tuple[int, str]]]:
    """30 pages and the separators they hold."""
    import pypdfium2 as pdfium

    w, h = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    font = ImageFont.truetype(FONT, round(10.5 / 72 * dpi))
    text = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(text)
    for i in range(30):
        draw.text((w // 10, h // 12 + i * round(dpi / 4)), LINE, font=font, fill=20)
    pdf = pdfium.PdfDocument(separator_sheet_pdf())
    sheet = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L").resize((w, h))
    pdf.close()
    pages, want = [], []
    for i in range(30):
        if i % 5 == 4:
            qr = i % 10 == 4
            pages.append(degrade(sheet.rotate(180) if qr else Image.new("L", (w, h), 255), i))
            want.append((i + 1, "qr" if qr else "blank"))
        else:
            pages.append(degrade(text, i))
    return pages, want


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    """(result, seconds)."""
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def rss_mb() -> float:
    """Peak resident memory of this process image so far (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_of(path: Path) -> None:
    """Print this process's peak RSS before and after reading and scanning ``path``."""
    import pypdfium2 as pdfium

    data = path.read_bytes()
    sheet, two = pdfium.PdfDocument(separator_sheet_pdf()), pdfium.PdfDocument.new()
    two.import_pages(sheet)
    two.import_pages(sheet)
    buf = io.BytesIO()
    two.save(buf)
    find_separators(buf.getvalue(), "warm-up.pdf")  # imports and first use, so what follows is the scan
    before = rss_mb()
    find_separators(data, path.name)
    print(
        f"{path.name}: {len(data) / 1e6:.1f} MB file, peak RSS {before:.0f} MB before scan, {rss_mb():.0f} MB after"
    )


def main() -> None:
    """Print ms/page per format, resolution and setting; then memory and the corpus check."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--memory-of", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_of:
        memory_of(args.memory_of)
        return
    tmp = Path(tempfile.mkdtemp(prefix="dossier-split-bench-"))
    for dpi in (200, 300):
        pages, want = stack(dpi)
        buf = io.BytesIO()
        pages[0].save(
            buf, "PDF", save_all=True, append_images=[p.copy() for p in pages[1:]], resolution=float(dpi)
        )
        pdf = buf.getvalue()
        buf = io.BytesIO()
        pages[0].copy().save(
            buf,
            "TIFF",
            save_all=True,
            append_images=[p.copy() for p in pages[1:]],
            compression="jpeg",
            dpi=(dpi, dpi),
        )
        tif = buf.getvalue()
        del pages
        (tmp / f"stack{dpi}.pdf").write_bytes(pdf)
        (tmp / f"stack{dpi}.tif").write_bytes(tif)
        for name, data in (("stack.pdf", pdf), ("stack.tif", tif)):
            for kinds in (("qr", "blank"), ("qr",), ("blank",)):
                seps, s = timed(find_separators, data, name, kinds=kinds)
                ok = [(x.page, x.kind) for x in seps] == [w for w in want if w[1] in kinds]
                print(
                    f"{dpi} dpi {name:9s} {len(data) / 1e6:5.1f} MB  find_separators kinds={','.join(kinds):9s} "
                    f"{s * 1000 / 30:6.1f} ms/page  found {len(seps):2d}  {'as built' if ok else 'DIFFERS'}"
                )
            seps = find_separators(data, name)
            parts, s = timed(split_at, data, name, seps)
            print(f"{dpi} dpi {name:9s} split_at -> {len(parts)} parts  {s * 1000 / 30:6.1f} ms/page")
    # Memory in a fresh process per file: the stacks built above would hide it here.
    for path in sorted(tmp.iterdir()):
        subprocess.run([sys.executable, __file__, "--memory-of", str(path)], check=True)
        path.unlink()
    tmp.rmdir()

    scans = sorted(
        p for p in (args.corpus / "scans").glob("*") if p.suffix.lower() in {".pdf", ".tif", ".tiff"}
    )
    total, found = 0.0, []
    for path in scans:
        seps, s = timed(find_separators, path.read_bytes(), path.name)
        total += s
        found += [(path.name, x.page, x.kind) for x in seps]
    print(
        f"corpus {args.corpus / 'scans'}: {len(scans)} PDF/TIFF files, {total:.1f} s, separators found: {found or 'none'}"
    )


if __name__ == "__main__":
    main()

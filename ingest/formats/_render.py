"""Page images for the document page: one page of a PDF or one frame of an image, as an upright PNG.

Pure like the rest of ``ingest``: bytes in, PNG bytes out, under the same limits (pages,
pixels) as parsing.  Rendering untrusted files can crash or hang in C code, so callers run it
in a child process: ``python -m ingest.formats._render FILENAME PAGE WIDTH ROTATION`` reads the file
on stdin and writes the PNG to stdout (exit 0), or one line saying why not to stderr (exit 2).
"""

from __future__ import annotations

import io
import sys

from foundation.messages import msg
from ingest._errors import IngestError, UnsupportedFile
from ingest._limits import Limits
from ingest._parse import DEFAULT_LIMITS

__all__ = ["MAX_WIDTH", "render_page_png"]

#: Widest page image, in pixels (the document page shows them at most this wide).
MAX_WIDTH = 2000
_DPI = 150


def render_page_png(
    data: bytes,
    filename: str,
    page: int,
    *,
    width: int = 1200,
    rotation: int = 0,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    """Page ``page`` (1-based) of a PDF or image file as a PNG at most ``width`` pixels wide.

    ``rotation`` is the turn OCR found the page needed (counter-clockwise degrees, as PIL's
    ``rotate``), so the picture shows the page upright.  Raises :class:`UnsupportedFile` for
    formats without pages to show (office files, e-mails …) and :class:`IngestError` for a
    page that does not exist or cannot be drawn.
    """
    from ingest.ocr._engines import _page_images

    width = max(64, min(int(width), MAX_WIDTH))

    def scale_for(w: int, h: int) -> float:
        return min(1.0, width / w) if w > 0 else 1.0

    try:
        pages = list(_page_images(data, filename, [page], limits, _DPI, scale_for))
    except UnsupportedFile as exc:
        raise UnsupportedFile(exc.mime, msg("ingest.render.no_images")) from exc
    for _number, image in pages:
        if isinstance(image, IngestError):
            raise image
        if isinstance(image, Exception):
            raise IngestError(msg("ingest.render.failed", page=page, detail=image)) from image
        if rotation % 360:
            image = image.rotate(rotation % 360, expand=True)
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=6)
        return out.getvalue()
    raise IngestError(msg("ingest.render.no_page", page=page))


def _main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(
            "usage: python -m ingest.formats._render FILENAME PAGE WIDTH ROTATION < file > page.png",
            file=sys.stderr,
        )
        return 2
    filename, page, width, rotation = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    try:
        png = render_page_png(sys.stdin.buffer.read(), filename, page, width=width, rotation=rotation)
    except (IngestError, UnsupportedFile) as exc:
        print(exc.message.splitlines()[0] if exc.message else type(exc).__name__, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(png)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

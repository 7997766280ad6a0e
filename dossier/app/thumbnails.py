"""Small pictures of a document's first page for the search results (``Dossier.thumbnails``).

Every call first reads the document as the caller (:func:`dossier.app.folder.readable_document`), also when the
picture is already in the cache: a document the caller may not read (or one in the trash) is "not found", exactly
like one that does not exist.  Showing a thumbnail is not audited as a ``view`` (a page of hits would flood the
trail); opening the document is.

What the picture shows:

- a PDF or an image: its first page, drawn by :meth:`DocumentService.page_image` (a child process under time
  and memory limits, kept in the blob store's cache), cut to the thumbnail's box;
- a document without page images (Word, Excel, text, e-mail …): the first lines of its recognised text, drawn
  with the CJK font the images use (WenQuanYi Micro Hei);
- no text either (or a page that cannot be drawn): a plain card with the file format's name.

Each picture is kept in the blob store's cache under a name made of what it shows (the version's content hash,
the page's turn, the text), which is also its ETag: a repeat view costs a permission check and a 304.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

import records
from dossier.app.folder import readable_document
from foundation.errors import DossierError
from index import Principal, file_format

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

#: The stored picture's size in pixels (shown at half that size: sharp on high-density screens).
THUMB_WIDTH, THUMB_HEIGHT = 144, 192
#: The size the results page shows it at (CSS pixels).
SHOWN_WIDTH, SHOWN_HEIGHT = THUMB_WIDTH // 2, THUMB_HEIGHT // 2
#: Bumped when the drawing changes, so that cached pictures of the old look are not served.
DRAWING = "1"
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
#: Lines of text a text thumbnail shows at most.
TEXT_LINES = 14

#: The card of each file format (:data:`index.FILE_FORMATS`): its colour and short label.
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("#b3261e", "PDF"),
    "word": ("#2b579a", "DOC"),
    "excel": ("#1d6f42", "XLS"),
    "powerpoint": ("#b7472a", "PPT"),
    "image": ("#6a3d9a", "IMG"),
    "email": ("#00696f", "EML"),
    "archive": ("#7a5c00", "ZIP"),
    "text": ("#4a4a4a", "TXT"),
    "other": ("#4a4a4a", "FILE"),
}


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail: its ETag and, unless the caller already holds that version, its PNG."""

    etag: str
    png: bytes | None


class ThumbnailService:
    """First-page thumbnails of the documents a caller may read."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: records.BlobStore,
        *,
        page_image: Callable[..., bytes],
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._page_image = page_image

    def thumbnail(self, doc_id: int, principal: Principal, *, known: str | None = None) -> Thumbnail:
        """The thumbnail of document ``doc_id`` as ``principal`` sees it (NotFound when they may not read it).

        ``known`` is the ETag the caller already holds: when it is still current the PNG is not read (``png`` None).
        """
        with self._sessions() as session:
            doc = readable_document(session, doc_id, principal)  # every time, cached or not
            version = doc.current
            first = min(doc.pages, key=lambda p: p.number, default=None)
            paged = bool(
                version is not None and version.mime.startswith(("application/pdf", "image/")) and first
            )
            fmt = file_format(version.mime, version.filename) if version is not None else "text"
            text = "" if first is None else (first.text or "")
            rotation = int(first.rotation or 0) % 360 if first is not None else 0
            sha = version.sha256 if version is not None else ""
            page_number = first.number if first is not None else 1
        lines = _first_lines(text)
        what = "\n".join([DRAWING, "page" if paged else "text", sha, str(rotation), fmt, *lines])
        etag = hashlib.sha256(what.encode("utf-8")).hexdigest()[:32]
        if known == etag:
            return Thumbnail(etag, None)
        name = f"thumb-{etag}.png"
        try:
            cached = self._blobs.get_cached(name)
        except records.BlobUnreadable:  # a cached picture that fails to open is drawn again and replaced
            cached = None
        if cached is not None:
            return Thumbnail(etag, cached)
        png = None
        if paged:
            try:
                page = self._page_image(doc_id, page_number, principal, width=THUMB_WIDTH)
            except DossierError:  # a page that cannot be drawn shows its text or format instead
                page = None
            if page is not None:
                png = _fit_page(page)
        if png is None:
            png = _text_card(lines, fmt) if lines else _format_card(fmt)
        self._blobs.put_cached(name, png)
        return Thumbnail(etag, png)


def _first_lines(text: str) -> list[str]:
    """The first non-empty lines of a text, each at most 40 characters (enough for the picture)."""
    out = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            out.append(line[:40])
        if len(out) >= TEXT_LINES:
            break
    return out


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _fit_page(png: bytes) -> bytes:
    """A page image cut to the thumbnail's box: its top part when tall, on white when short; 64 colours."""
    with Image.open(io.BytesIO(png)) as drawn:
        page = drawn.convert("RGB")
    if page.width != THUMB_WIDTH:
        height = max(1, round(page.height * THUMB_WIDTH / page.width))
        page = page.resize((THUMB_WIDTH, height))
    card = Image.new("RGB", (THUMB_WIDTH, THUMB_HEIGHT), "white")
    card.paste(page.crop((0, 0, THUMB_WIDTH, min(page.height, THUMB_HEIGHT))), (0, 0))
    return _png(card.quantize(colors=64))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT_PATH), size)
    except OSError:  # the font package is missing: Pillow's own font (Latin only) still draws something
        return ImageFont.load_default()


def _text_card(lines: list[str], fmt: str) -> bytes:
    """A small page with the first lines of the text and a band naming the format."""
    card = Image.new("RGB", (THUMB_WIDTH, THUMB_HEIGHT), "white")
    draw = ImageDraw.Draw(card)
    font = _font(11)
    colour, label = FORMATS.get(fmt, FORMATS["other"])
    y, margin, bottom = 8, 8, THUMB_HEIGHT - 26
    for line in lines:
        while line and y < bottom:
            fit = len(line)
            while fit > 1 and draw.textlength(line[:fit], font=font) > THUMB_WIDTH - 2 * margin:
                fit -= 1
            draw.text((margin, y), line[:fit], fill="#333333", font=font)
            line, y = line[fit:], y + 13
        if y >= bottom:
            break
    _band(draw, colour, label)
    return _png(card.quantize(colors=32))


def _format_card(fmt: str) -> bytes:
    """A plain card with the format's name: a document with nothing to draw."""
    colour, label = FORMATS.get(fmt, FORMATS["other"])
    card = Image.new("RGB", (THUMB_WIDTH, THUMB_HEIGHT), "#f4f5f7")
    draw = ImageDraw.Draw(card)
    draw.rectangle((28, 36, THUMB_WIDTH - 28, THUMB_HEIGHT - 44), fill="white", outline="#c4c8cf", width=2)
    font = _font(22)
    width = draw.textlength(label, font=font)
    draw.text(((THUMB_WIDTH - width) / 2, 78), label, fill=colour, font=font)
    _band(draw, colour, label)
    return _png(card.quantize(colors=32))


def _band(draw: ImageDraw.ImageDraw, colour: str, label: str) -> None:
    top = THUMB_HEIGHT - 20
    draw.rectangle((0, top, THUMB_WIDTH, THUMB_HEIGHT), fill=colour)
    font = _font(12)
    draw.text((8, top + 3), label, fill="white", font=font)

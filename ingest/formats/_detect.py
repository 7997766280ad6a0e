"""Type detection by content.  The file name's extension only breaks ties among text formats."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass

from foundation.messages import msg
from ingest._errors import BrokenFile, EncryptedFile

MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "msg": "application/vnd.ms-outlook",
    "eml": "message/rfc822",
    "html": "text/html",
    "md": "text/markdown",
    "csv": "text/csv",
    "txt": "text/plain",
    "zip": "application/zip",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "webp": "image/webp",
    "heic": "image/heic",
    "avif": "image/avif",
}

IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "bmp", "tiff", "webp"})


@dataclass(frozen=True)
class Detected:
    """What a file is: its MIME type and a short format name (``pdf``, ``docx``, ``png`` …).

    ``format`` is ``"unknown"`` when the content matched nothing Dossier reads.
    """

    mime: str
    format: str


def _ext(filename: str | None) -> str:
    if not filename or "." not in filename:
        return ""
    return filename.rsplit(".", 1)[1].lower()


def _detect_ooxml_or_zip(data: bytes, filename: str | None) -> Detected:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        ext = _ext(filename)
        fmt = ext if ext in {"docx", "pptx", "xlsx"} else "zip"
        raise BrokenFile(msg("ingest.zip.incomplete", format=fmt, detail=exc)) from None
    if "[Content_Types].xml" in names:
        tops = {n.split("/", 1)[0] for n in names}
        for part, fmt in (("word", "docx"), ("ppt", "pptx"), ("xl", "xlsx")):
            if part in tops:
                return Detected(MIME[fmt], fmt)
    return Detected(MIME["zip"], "zip")


def _detect_ole(data: bytes) -> Detected:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises bare OSError/struct errors on damaged files
        raise BrokenFile(msg("ingest.office.damaged_ole", detail=exc)) from None
    try:
        streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    finally:
        ole.close()
    top = {s.split("/", 1)[0] for s in streams}
    if "EncryptedPackage" in top or "EncryptionInfo" in top:
        raise EncryptedFile(msg("ingest.office.encrypted"))
    if "__properties_version1.0" in top or any(s.startswith("__substg1.0_") for s in top):
        return Detected(MIME["msg"], "msg")
    if "WordDocument" in top:
        return Detected(MIME["doc"], "doc")
    if "Workbook" in top or "Book" in top:
        return Detected(MIME["xls"], "xls")
    if "PowerPoint Document" in top:
        return Detected(MIME["ppt"], "ppt")
    return Detected("application/x-ole-storage", "unknown")


def _detect_image(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM") and len(head) > 14:
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "avif"
        if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "heic"
    return None


_EMAIL_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "received",
    "mime-version",
    "message-id",
    "return-path",
    "cc",
    "content-type",
    "reply-to",
    "delivered-to",
    "x-mailer",
)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]")
_HTML_START = re.compile(
    r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)[\s>]", re.I | re.S
)
_HTML_TAGS = re.compile(r"</?(html|body|div|p|table|span|br|head|title)\b", re.I)
_MD_HEADING = re.compile(r"^#{1,6}\s+\S", re.M)
_MD_OTHER = re.compile(r"^\s*(\|.*\|\s*$|[-*+]\s+\S|```|>\s)|\*\*[^*\n]+\*\*|\[[^\]\n]+\]\([^)\n]+\)", re.M)


def _looks_email(text: str) -> bool:
    known = 0
    lines = text[:8192].splitlines()[:80]
    if lines and lines[0].startswith("From "):  # mbox separator line
        lines = lines[1:]
    for line in lines:
        if not line.strip():
            break
        if line[0] in " \t":
            continue
        m = _HEADER_LINE.match(line)
        if not m:
            return False
        if m.group(1).lower() in _EMAIL_HEADERS:
            known += 1
    return known >= 2


def _looks_csv(text: str) -> bool:
    lines = [ln for ln in text[:20000].splitlines() if ln.strip()][:20]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        widths = {len(row) for row in csv.reader(io.StringIO("\n".join(lines[:-1] or lines)), dialect)}
    except csv.Error:
        return False
    return len(widths) == 1 and widths.pop() >= 2


def detect_text(text: str, filename: str | None) -> Detected:
    """Tell HTML, e-mail, Markdown, CSV and plain text apart; the extension only breaks ties."""
    head = text[:65536]
    ext = _ext(filename)
    if _HTML_START.match(head) or (ext in {"html", "htm", "xhtml"} and _HTML_TAGS.search(head)):
        return Detected(MIME["html"], "html")
    if _looks_email(head):
        return Detected(MIME["eml"], "eml")
    if ext in {"md", "markdown"}:
        return Detected(MIME["md"], "md")
    if ext in {"csv", "tsv"} and _looks_csv(head):
        return Detected(MIME["csv"], "csv")
    if ext in {"", "txt", "text", "log"} or ext not in {"csv", "tsv"}:
        headings = len(_MD_HEADING.findall(head))
        if headings >= 2 and len(_MD_OTHER.findall(head)) >= 2:
            return Detected(MIME["md"], "md")
    return Detected(MIME["txt"], "txt")


def detect_bytes(data: bytes, filename: str | None = None) -> Detected:
    """Detect a file's type from its bytes (magic numbers, ZIP and OLE2 contents, text heuristics)."""
    head = data[:4096]
    if not data:
        raise BrokenFile(msg("ingest.file.empty"))
    if b"%PDF-" in data[:1024]:
        return Detected(MIME["pdf"], "pdf")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _detect_ooxml_or_zip(data, filename)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _detect_ole(data)
    image = _detect_image(head)
    if image:
        return Detected(MIME[image], image)
    from ingest._text import decode_text

    try:
        text, _ = decode_text(_text_sample(data))
    except Exception:  # anything undecodable falls through to libmagic
        text = ""
    if text and not _binary_looking(text):
        return detect_text(text, filename)
    try:
        import magic

        mime = magic.from_buffer(data[:8192], mime=True) or "application/octet-stream"
    except Exception:  # libmagic missing or failing must not break detection
        mime = "application/octet-stream"
    return Detected(mime, "unknown")


def _binary_looking(text: str) -> bool:
    sample = text[:4096]
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\x0c") or c == "\ufffd")
    return bad > max(2, len(sample) // 100)


def _text_sample(data: bytes, size: int = 65536) -> bytes:
    """The first ``size`` bytes, cut at a line end so no multi-byte character is split."""
    if len(data) <= size:
        return data
    sample = data[:size]
    cut = sample.rfind(b"\n")
    if cut > 0:
        sample = sample[: cut + 1]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and len(sample) % 2:
        sample = sample[:-1] if data[:2] == b"\xfe\xff" else sample + b"\x00"
    return sample

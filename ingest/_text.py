"""Text helpers shared by the extractors: decoding, light normalisation, language and title."""

from __future__ import annotations

import codecs
import re
import unicodedata

from foundation.messages import msg
from ingest._errors import UnsupportedFile

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_TRAILING_WS = re.compile(r"[ \t\u3000\xa0]+$", re.MULTILINE)
_MANY_BLANKS = re.compile(r"\n{3,}")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CJK_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u00b7]")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def normalize(text: str) -> str:
    """Light clean-up: one visual line per line, NFC, no trailing spaces (no NFKC: the index does that)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\ufeff", "")
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_WS.sub("", text)
    text = _MANY_BLANKS.sub("\n\n", text)
    return text.strip("\n")


def _looks_chinese(text: str) -> bool:
    """True when the non-ASCII characters of ``text`` are mostly Han characters and CJK punctuation."""
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return True
    good = sum(1 for c in non_ascii if _CJK.match(c) or _CJK_PUNCT.match(c))
    return good / len(non_ascii) >= 0.85


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > half * 0.3 and even_nuls < half * 0.05:
        codec = "utf-16-le"
    elif even_nuls > half * 0.3 and odd_nuls < half * 0.05:
        codec = "utf-16-be"
    else:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes of a text file; returns ``(text, encoding)``.

    Order: BOM, strict UTF-8, BOM-less UTF-16, strict GB18030 when the result reads as Chinese
    (so GBK/GB2312 files decode exactly), then charset-normalizer's best guess.  Raises
    :class:`UnsupportedFile` for binary data.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), codec
            except UnicodeDecodeError:
                break
    # NUL bytes are valid UTF-8, so BOM-less UTF-16 must be recognised first.
    utf16 = _utf16_without_bom(data) if b"\x00" in data[:4096] else None
    if utf16 is not None:
        return utf16, "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:8192]:
        raise UnsupportedFile("application/octet-stream", msg("ingest.text.binary"))
    try:
        text = data.decode("gb18030")
        if _looks_chinese(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("utf-8", errors="replace"), "utf-8"


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


def language(text: str) -> str:
    """``zh``, ``en``, ``mixed`` or ``""``.

    By letter counts (a Han character weighs about as much as a short Latin word), except that a
    mostly Chinese text with whole English sentences (lines of five or more English words and
    no Han characters) is ``mixed``, as is a mostly English text with Chinese lines.
    """
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return ""
    if cjk == 0:
        return "en"
    en_lines = sum(1 for ln in text.splitlines() if not _CJK.search(ln) and len(_LATIN_WORD.findall(ln)) >= 5)
    zh_lines = sum(1 for ln in text.splitlines() if len(_CJK.findall(ln)) >= 5)
    share = cjk / (cjk + latin / 4)
    if share >= 0.85:
        return "mixed" if en_lines >= 1 and zh_lines >= 1 else "zh"
    if share <= 0.15:
        return "mixed" if zh_lines >= 1 and en_lines >= 1 else "en"
    return "mixed"


_TITLE_JUNK = re.compile(r"^(untitled|无标题|document\d*|microsoft word - .*|slide \d+|sheet\d*)$", re.I)
_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u3400-\u9fff]")


def clean_title(title: str | None) -> str:
    """A one-line title, or "" when ``title`` is empty or boilerplate ("Untitled", "Microsoft Word - …")."""
    if not title:
        return ""
    title = " ".join(unicodedata.normalize("NFC", title).split())
    if title.lower().startswith("microsoft word - "):
        title = title[len("microsoft word - ") :]
        title = re.sub(r"\.docx?$", "", title, flags=re.I)
    if not title or _TITLE_JUNK.match(title) or len(_LETTER.findall(title)) < 2:
        return ""
    return title[:200]


def first_line_title(text: str) -> str:
    """The first meaningful short line of ``text`` (markdown '#' marks removed)."""
    for raw in text.splitlines()[:60]:
        line = raw.strip().lstrip("#").strip().strip("*").strip()
        line = line.split("\t")[0].strip()
        if 2 <= len(line) <= 100 and len(_LETTER.findall(line)) >= 2:
            return clean_title(line)
    return ""

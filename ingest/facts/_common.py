"""What every entity finder shares: the candidate type, labels before a value, table cells and their headers.

A *finder* is ``find(text) -> list[Found]`` over one page's text; :mod:`ingest.facts._entities`
runs them all and resolves their overlaps.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Finder",
    "Found",
    "TableCell",
    "cell_header",
    "half_width",
    "label_before",
    "role_before",
    "table_cells",
]


@dataclass(frozen=True)
class Found:
    """One candidate from a finder: ``text[start:end]`` read as ``kind`` with ``value``."""

    kind: str
    value: str
    start: int
    end: int
    valid: bool = True
    role: str = ""
    priority: int = 0


Finder = Callable[[str], list[Found]]


def label_before(text: str, start: int, width: int = 16) -> str:
    """The text just before ``start`` on its line, at most ``width`` characters.

    A value that starts its line (a label cell above it, as HTML forms often come out)
    takes the end of the line before, when that line ends with a colon.
    """
    line_start = text.rfind("\n", 0, start) + 1
    if line_start > 0 and not text[line_start:start].strip():
        prev_start = text.rfind("\n", 0, line_start - 1) + 1
        prev = text[prev_start : line_start - 1].rstrip()
        if prev.endswith((":", "：")):
            return prev[-width:] + text[line_start - 1 : start]
    return text[max(line_start, start - width) : start]


_ROLE = re.compile(
    r"([\u4e00-\u9fff]{1,10}(?:[（(][\u4e00-\u9fff]{1,6}[）)])?|[A-Za-z][A-Za-z .]{0,24})[ *]*[:：\t|][ \t*|]*$"
)


def role_before(text: str, start: int) -> str:
    """The label that introduces the value at ``start`` (``联系电话：``, ``甲方（买方）：``, ``Tel:``) or ""."""
    m = _ROLE.search(label_before(text, start, 20))
    return m.group(1).strip(" .") if m else ""


_SUMMARY_ROW = re.compile(r"^(?:合计|总计|小计|价税合计|total|subtotal|grand total)", re.IGNORECASE)
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
# Lines without cell separators that a table may hold (a wrapped cell) before it ends.
_TABLE_GAP_LINES = 2


@dataclass(frozen=True)
class TableCell:
    """A table cell (TAB- or ``|``-separated line) holding a digit, with its column header."""

    start: int
    end: int
    header: str  # "" when the table has no header row above the cell
    row_label: str  # the row's first cell (合计, 序号 …)


def _split_cells(line: str, offset: int, sep: str) -> list[tuple[int, int, str]]:
    """``(start, end, stripped text)`` of each cell of ``line`` (``offset`` = line start)."""
    cells: list[tuple[int, int, str]] = []
    pos = 0
    for piece in line.split(sep):
        lead = len(piece) - len(piece.lstrip())
        stripped = piece.strip()
        cells.append((offset + pos + lead, offset + pos + lead + len(stripped), stripped))
        pos += len(piece) + 1
    if sep == "|":
        if cells and not cells[0][2] and line.lstrip().startswith("|"):
            cells = cells[1:]
        if cells and not cells[-1][2] and line.rstrip().endswith("|"):
            cells = cells[:-1]
    return cells


@functools.lru_cache(maxsize=8)
def table_cells(text: str) -> tuple[TableCell, ...]:
    """Every table cell of ``text`` that holds a digit, with its column header.

    A header row is a row of at least two cells without digits; it holds until a blank
    line or more than two lines without separators.  A short row lost its empty trailing
    cells and lines up from the left, except a summary row (合计, Total) without empty
    cells, whose figures stand under the last columns.
    """
    if "\t" not in text and "|" not in text:
        return ()
    out: list[TableCell] = []
    header: list[str] | None = None
    header_sep = ""
    gap = 0
    offset = 0
    for line in text.split("\n"):
        line_start, offset = offset, offset + len(line) + 1
        sep = "\t" if "\t" in line else "|" if line.count("|") >= 2 else ""
        if not line.strip():
            header = None
            continue
        if not sep:
            gap += 1
            if gap > _TABLE_GAP_LINES:
                header = None
            continue
        gap = 0
        if sep == "|" and _MD_RULE.match(line):
            continue
        cells = _split_cells(line, line_start, sep)
        texts = [c[2] for c in cells]
        if not any(ch.isdigit() for c in texts for ch in c):
            if sum(1 for c in texts if c) >= 2:
                header, header_sep = texts, sep
            continue
        heads = [""] * len(cells)
        if header is not None and header_sep == sep and len(cells) <= len(header):
            shift = 0
            if len(cells) < len(header) and _SUMMARY_ROW.match(texts[0]) and all(texts):
                shift = len(header) - len(cells)
            heads = header[shift : shift + len(cells)]
        for (start, end, cell), head in zip(cells, heads, strict=True):
            if any(ch.isdigit() for ch in cell):
                out.append(TableCell(start, end, head, texts[0]))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _cell_starts(text: str) -> list[int]:
    return [c.start for c in table_cells(text)]


def cell_header(text: str, pos: int) -> str | None:
    """The column header of the table cell that holds ``pos``; None outside a headed table."""
    cells = table_cells(text)
    i = bisect.bisect_right(_cell_starts(text), pos) - 1
    if i >= 0 and cells[i].start <= pos <= cells[i].end and cells[i].header:
        return cells[i].header
    return None


_HALF_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): chr(0x30 + i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "．": ".",
        "－": "-",
        "＋": "+",
        "＠": "@",
        "／": "/",
        "\u3000": " ",
    }
)


def half_width(text: str) -> str:
    """Full-width digits, letters and number marks as ASCII, one character for one."""
    return text.translate(_HALF_WIDTH)

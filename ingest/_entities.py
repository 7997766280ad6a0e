"""Entity extraction facade: every finder over every page, overlaps resolved, in reading order.

A *finder* is ``find(text) -> list[Found]`` over one page's text.  Finders may propose
overlapping candidates (a phone inside a credit code, a date inside a contract number);
:func:`extract_entities` keeps, among overlapping ones, the candidate with the higher
``priority`` and then the longer span, so the more specific reading wins.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ingest._model import ENTITY_KINDS, Entity


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


@functools.cache
def _finders() -> tuple[Finder, ...]:
    """The finders, imported on first use because they import :class:`Found` from here."""
    from ingest._ent_codes import find_codes
    from ingest._ent_contact import find_contacts
    from ingest._ent_dates import find_dates
    from ingest._ent_money import find_amounts
    from ingest._ent_names import find_names

    return (find_contacts, find_codes, find_amounts, find_dates, find_names)


def resolve_overlaps(candidates: Iterable[Found]) -> list[Found]:
    """Keep non-overlapping candidates: higher priority first, then longer, then earlier."""
    ranked = sorted(candidates, key=lambda f: (-f.priority, -(f.end - f.start), f.start))
    kept: list[Found] = []
    starts: list[int] = []  # kept spans never overlap, so sorted starts also sort their ends
    ends: list[int] = []
    for cand in ranked:
        if cand.end <= cand.start:
            continue
        i = bisect.bisect_right(starts, cand.start)
        if (i > 0 and ends[i - 1] > cand.start) or (i < len(starts) and starts[i] < cand.end):
            continue
        kept.append(cand)
        starts.insert(i, cand.start)
        ends.insert(i, cand.end)
    kept.sort(key=lambda f: (f.start, f.end))
    return kept


# Full-width digits, letters and the marks inside numbers and addresses read as their
# ASCII twins; one character for one, so offsets stay those of the page text.
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


def find_all(text: str) -> list[Found]:
    """Every finder over one text, overlaps resolved, in position order."""
    text = half_width(text)
    candidates: list[Found] = []
    for finder in _finders():
        candidates.extend(finder(text))
    return resolve_overlaps(candidates)


def extract_entities(pages: Sequence[str]) -> tuple[Entity, ...]:
    """Entities of a document's page texts (page numbers start at 1), in page and position order."""
    out: list[Entity] = []
    for number, text in enumerate(pages, start=1):
        if not text:
            continue
        for f in find_all(text):
            out.append(
                Entity(
                    kind=f.kind,
                    value=f.value,
                    text=text[f.start : f.end],
                    page=number,
                    start=f.start,
                    end=f.end,
                    valid=f.valid,
                    role=f.role,
                )
            )
    return tuple(out)


def entity_values(entities: Iterable[Entity]) -> dict[str, list[str]]:
    """Kind -> unique normalised values in first-seen order; every kind of ENTITY_KINDS is present."""
    values: dict[str, list[str]] = {kind: [] for kind in ENTITY_KINDS}
    seen: set[tuple[str, str]] = set()
    for e in entities:
        key = (e.kind, e.value)
        if key in seen:
            continue
        seen.add(key)
        values.setdefault(e.kind, []).append(e.value)
    return values


# Labels that name the document's own date, strongest first.  A due date ("交货日期",
# "有效期至", "到期") or a birth date never names the document.
_OWN_DATE_LABELS = (
    ("签订日期", "签署日期", "签约日期", "签字日期", "订立日期", "合同日期", "签订时间", "签署时间", "签约时间"),
    (
        "开票日期", "报价日期", "会议时间", "会议日期", "拜访日期", "拜访时间", "下单日期", "订单日期",
        "出具日期", "制单日期", "发文日期", "issue date", "date of issue", "invoice date", "quotation date",
        "order date", "meeting date", "visit date",
    ),
    ("填写日期", "制表日期", "编制日期", "日期", "时间", "date", "dated"),
)  # fmt: skip
_NOT_OWN = re.compile(
    r"(?:出生|生日|到期|截止|有效期|交货|交付|完成|预计|下次|付款|验收|续约|失效|届满|止|due|expir|valid|birth|deliver|expected|close|next)",
    re.IGNORECASE,
)
# Words right after a date that make it a deadline: 2024/3/25前交货, 至2024-12-31止.
_DEADLINE_AFTER = re.compile(r"^\s?(?:前|之前|以前|止|为止|到期|截止|内|起)")
_LABEL_GAP = re.compile(r"^[\s:：*|\-#]*$")
_HEAD_CHARS = 400


def _page_text(pages: Sequence[str], number: int) -> str:
    return pages[number - 1] if 0 < number <= len(pages) else ""


def _is_deadline(e: Entity, pages: Sequence[str]) -> bool:
    """A due, expiry, delivery or birth date by the words around it."""
    text = _page_text(pages, e.page)
    return bool(
        _NOT_OWN.search(label_before(text, e.start, 16).lower())
        or _DEADLINE_AFTER.match(text[e.end : e.end + 4])
    )


def document_date(entities: Iterable[Entity], pages: Sequence[str]) -> str | None:
    """The document's own date: a signing/issue/meeting date by label, else the earliest early date.

    Dates labelled or worded as due, expiry, delivery or birth dates are never chosen.
    Without a label, the earliest date in the head of the first page that carries a date
    wins, else the earliest date anywhere.
    """
    dates = [e for e in entities if e.kind == "date"]
    best: tuple[int, int, int, str] | None = None
    for e in dates:
        before = label_before(_page_text(pages, e.page), e.start, 16)
        label = before.rstrip(" \t:：*|#-")
        low = label.lower()
        if _NOT_OWN.search(low[-8:]):
            continue
        for rank, group in enumerate(_OWN_DATE_LABELS):
            if any(low.endswith(name) for name in group) and _LABEL_GAP.match(before[len(label) :]):
                key = (rank, e.page, e.start, e.value)
                if best is None or key < best:
                    best = key
                break
    if best is not None:
        return best[3]
    usable = [e for e in dates if not _is_deadline(e, pages)]
    if not usable:
        return None
    first_page = min(e.page for e in usable)
    head = [e for e in usable if e.page == first_page and e.start < _HEAD_CHARS]
    return min(e.value for e in (head or usable))

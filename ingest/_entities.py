"""Entity extraction facade: every finder over every page, overlaps resolved, in reading order.

A *finder* is ``find(text) -> list[Found]`` over one page's text.  Finders may propose
overlapping candidates (a phone inside a credit code, a date inside a contract number);
:func:`extract_entities` keeps, among overlapping ones, the candidate with the higher
``priority`` and then the longer span, so the more specific reading wins.
"""

from __future__ import annotations

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
    """The text just before ``start`` on the same line, at most ``width`` characters."""
    line_start = text.rfind("\n", 0, start) + 1
    return text[max(line_start, start - width) : start]


_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
_HEADER_LOOKBACK = 60


def _cells(line: str, sep: str) -> list[str]:
    cells = line.split(sep)
    if sep == "|" and line.strip().startswith("|"):
        cells = cells[1:]
    return [c.strip() for c in cells]


def cell_header(text: str, pos: int) -> str | None:
    """The column header of the table cell (TAB- or ``|``-separated) that holds ``pos``.

    The header is the nearest line above, within the same table, whose cells carry no
    digits.  A row with fewer cells than the header (a 合计 row) is aligned to the right.
    """
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    if "\t" in line:
        sep = "\t"
    elif line.count("|") >= 2:
        sep = "|"
    else:
        return None
    row = _cells(line, sep)
    before = line[: pos - line_start]
    index = before.count(sep) - (1 if sep == "|" and line.strip().startswith("|") else 0)
    if index < 0 or index >= len(row):
        return None
    cursor = line_start - 1
    for _ in range(_HEADER_LOOKBACK):
        if cursor <= 0:
            return None
        prev_start = text.rfind("\n", 0, cursor) + 1
        prev = text[prev_start:cursor]
        cursor = prev_start - 1
        if not prev.strip():
            return None
        if sep not in prev or _MD_RULE.match(prev):
            continue
        cells = _cells(prev, sep)
        if any(ch.isdigit() for c in cells for ch in c):
            continue
        if len(cells) < len(row):
            return None
        col = index + (len(cells) - len(row))
        return cells[col] if len(row) < len(cells) else cells[index]
    return None


@functools.cache
def _finders() -> tuple[Finder, ...]:
    """The finders, imported on first use because they import :class:`Found` from here."""
    from ingest._ent_codes import find_codes
    from ingest._ent_contact import find_contacts
    from ingest._ent_dates import find_dates
    from ingest._ent_money import find_amounts

    return (find_contacts, find_codes, find_amounts, find_dates)


def resolve_overlaps(candidates: Iterable[Found]) -> list[Found]:
    """Keep non-overlapping candidates: higher priority first, then longer, then earlier."""
    ranked = sorted(candidates, key=lambda f: (-f.priority, -(f.end - f.start), f.start))
    kept: list[Found] = []
    taken: list[tuple[int, int]] = []
    for cand in ranked:
        if cand.end <= cand.start:
            continue
        if any(cand.start < end and start < cand.end for start, end in taken):
            continue
        kept.append(cand)
        taken.append((cand.start, cand.end))
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


def find_all(text: str) -> list[Found]:
    """Every finder over one text, overlaps resolved, in position order."""
    text = text.translate(_HALF_WIDTH)
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
    ("签订日期", "签署日期", "签约日期", "合同日期", "签订时间"),
    ("开票日期", "报价日期", "会议时间", "会议日期", "拜访日期", "拜访时间", "下单日期", "订单日期"),
    ("填写日期", "制表日期", "编制日期", "日期", "时间", "date", "dated", "visit date"),
)
_NOT_OWN = re.compile(
    r"(?:出生|生日|到期|截止|有效期|交货|交付|完成|预计|下次|付款|验收|续约|失效|届满|止|due|expir|valid|birth|deliver|expected|close|next)",
    re.IGNORECASE,
)
_LABEL_GAP = re.compile(r"^[\s:：*|\-#]*$")
_HEAD_CHARS = 400


def _label_before(text: str, start: int) -> str:
    return label_before(text, start, 16)


def document_date(entities: Iterable[Entity], pages: Sequence[str]) -> str | None:
    """The document's own date: a signing/issue/meeting date by label, else the earliest early date.

    Dates labelled as due, expiry, delivery or birth dates are never chosen.  Without a
    label, the earliest date in the head of the first page that carries a date wins.
    """
    dates = [e for e in entities if e.kind == "date"]
    if not dates:
        return None
    best: tuple[int, int, int, str] | None = None
    for e in dates:
        text = pages[e.page - 1] if 0 < e.page <= len(pages) else ""
        before = _label_before(text, e.start)
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
    first_page = min(e.page for e in dates)
    head = [
        e
        for e in dates
        if e.page == first_page
        and e.start < _HEAD_CHARS
        and not _NOT_OWN.search(_label_before(pages[e.page - 1], e.start).lower())
    ]
    if head:
        return min(e.value for e in head)
    usable = [
        e for e in dates if not _NOT_OWN.search(_label_before(pages[e.page - 1], e.start).lower())
    ]
    return min(e.value for e in (usable or dates))

"""Entity extraction facade: every finder over every page, overlaps resolved, in reading order.

A *finder* is ``find(text) -> list[Found]`` over one page's text.  Finders may propose
overlapping candidates (a phone inside a credit code, a date inside a contract number);
:func:`extract_entities` keeps, among overlapping ones, the candidate with the higher
``priority`` and then the longer span, so the more specific reading wins.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from ingest._model import ENTITY_KINDS, Entity
from ingest.facts._codes import find_codes
from ingest.facts._common import Finder, Found, half_width, label_before
from ingest.facts._contact import find_contacts
from ingest.facts._dates import find_dates
from ingest.facts._money import find_amounts
from ingest.facts._names import find_names


def _finders() -> tuple[Finder, ...]:
    """The finders, in the order their candidates are proposed."""
    return (find_contacts, find_codes, find_amounts, find_dates, find_names)


#: The entity kinds each finder proposes (``extract_entities(kinds=…)`` runs only the finders it needs).
_FINDER_KINDS: dict[Finder, frozenset[str]] = {
    find_contacts: frozenset({"phone", "email"}),
    find_codes: frozenset({"uscc", "contract_no", "quote_no", "order_no", "invoice_no", "invoice_code"}),
    find_amounts: frozenset({"amount"}),
    find_dates: frozenset({"date"}),
    find_names: frozenset({"company", "person", "address"}),
}


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
def find_all(text: str, kinds: Iterable[str] | None = None) -> list[Found]:
    """Every finder over one text (only those proposing ``kinds`` when given), overlaps resolved, in position order."""
    text = half_width(text)
    wanted = None if kinds is None else frozenset(kinds)
    candidates: list[Found] = []
    for finder in _finders():
        if wanted is None or _FINDER_KINDS.get(finder, wanted) & wanted:
            candidates.extend(finder(text))
    return resolve_overlaps(candidates)


def extract_entities(pages: Sequence[str], kinds: Iterable[str] | None = None) -> tuple[Entity, ...]:
    """Entities of a document's page texts (page numbers start at 1), in page and position order.

    ``kinds``: only the finders that propose these kinds run (a search marking where a queried
    phone number or amount stands needs no company names); the result may then hold other kinds too.
    """
    out: list[Entity] = []
    for number, text in enumerate(pages, start=1):
        if not text:
            continue
        for f in find_all(text, kinds):
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


class KindValue(Protocol):
    """Anything with an entity's kind and normalised value (an :class:`Entity`, a stored entity row)."""

    @property
    def kind(self) -> str: ...

    @property
    def value(self) -> str: ...


def entity_values(entities: Iterable[KindValue]) -> dict[str, list[str]]:
    """Kind -> unique normalised values in first-seen order; every kind of ENTITY_KINDS is present.

    The one grouping of entities by kind: the API's document JSON, the exports and the
    benchmarks all use it, over extracted entities or the rows the records keep.
    """
    return group_entity_values((e.kind, e.value) for e in entities)


def group_entity_values(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """:func:`entity_values` over ``(kind, value)`` pairs (e.g. straight from a query)."""
    values: dict[str, list[str]] = {kind: [] for kind in ENTITY_KINDS}
    seen: set[tuple[str, str]] = set()
    for kind, value in pairs:
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        values.setdefault(kind, []).append(value)
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

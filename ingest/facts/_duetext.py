"""The pieces due-date finding reads a text with: dates with their spans, periods, sentences, anchors.

Everything here works on the half-width page text (:func:`ingest.facts._common.half_width`
maps one character to one, so offsets stay those of the page).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from ingest.facts._common import label_before
from ingest.facts._dates import find_dates

__all__ = [
    "DateSpan",
    "Sentence",
    "add_period",
    "anchor_date",
    "date_spans",
    "parse_count",
    "sentences",
]


@dataclass(frozen=True)
class DateSpan:
    """A calendar date written at ``start:end`` of a text."""

    start: int
    end: int
    value: dt.date


def date_spans(text: str) -> list[DateSpan]:
    """Every real calendar date of ``text`` (impossible ones such as 2月30日 are simply not dates).

    Overlapping readings keep the longest; the result is in position order.
    """
    spans: list[DateSpan] = []
    for f in sorted(find_dates(text), key=lambda f: (f.start, -(f.end - f.start))):
        if spans and f.start < spans[-1].end:
            continue
        spans.append(DateSpan(f.start, f.end, dt.date.fromisoformat(f.value)))
    return spans


_DIGITS = (
    {ch: i for i, ch in enumerate("零一二三四五六七八九")}
    | {ch: i for i, ch in enumerate("〇壹贰叁肆伍陆柒捌玖")}
    | {"两": 2}
)
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100}


def parse_count(s: str) -> int | None:
    """A count in digits or Chinese numerals (30, 三十, 十二, 两, 一百八十, 三〇) -> int, else None."""
    s = s.strip()
    if s.isdigit():
        return int(s)
    if not s or any(ch not in _DIGITS and ch not in _UNITS for ch in s):
        return None
    if all(ch in _DIGITS for ch in s):  # 三〇 written digit by digit
        return int("".join(str(_DIGITS[ch]) for ch in s))
    total, current = 0, 0
    for ch in s:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _UNITS[ch]
            current = 0
    return total + current


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months; a day past the end of the target month becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def add_period(day: dt.date, count: int, unit: str) -> dt.date | None:
    """``day`` plus ``count`` units (``day``, ``week``, ``month``, ``year``); None out of range."""
    try:
        if unit == "day":
            return day + dt.timedelta(days=count)
        if unit == "week":
            return day + dt.timedelta(weeks=count)
        if unit == "month":
            return _add_months(day, count)
        if unit == "year":
            return _add_months(day, 12 * count)
    except (OverflowError, ValueError):
        return None
    return None


@dataclass(frozen=True)
class Sentence:
    """One sentence of a page: ``text[start:end]`` (may run over line breaks that continue it)."""

    start: int
    end: int


_ENDS = re.compile(r"[。；;！!？?\n]")
# A line break continues the sentence when the line before ends in the middle of a clause
# (…自 / …至 / 有效期： / a date) or the next line starts with the rest of a range (至… / 止).
_OPEN_END = re.compile(r"[自从至到为：:，,、~～—\-]\s*$")
_CONTINUES = re.compile(r"^\s*(?:[至到止起~～—\-]|to\b|until\b)")
_MAX_SENTENCE = 500


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``: split at 。；！？ and at line breaks that do not continue a clause."""
    out: list[Sentence] = []
    start = 0
    for m in _ENDS.finditer(text):
        pos = m.start()
        joins = _OPEN_END.search(text[max(start, pos - 12) : pos]) or _CONTINUES.match(
            text[pos + 1 : pos + 16]
        )
        if m.group() == "\n" and joins and pos - start < _MAX_SENTENCE:
            continue
        out.extend(_pieces(text, start, m.end() if m.group() != "\n" else pos))
        start = pos + 1
    if start < len(text):
        out.extend(_pieces(text, start, len(text)))
    return [s for s in out if text[s.start : s.end].strip()]


def _pieces(text: str, start: int, end: int) -> list[Sentence]:
    """A sentence longer than 500 characters cut after commas (or hard) into pieces of at most 500."""
    out: list[Sentence] = []
    while end - start > _MAX_SENTENCE:
        cut = max(text.rfind(ch, start, start + _MAX_SENTENCE) for ch in "，,、 ")
        cut = cut + 1 if cut > start else start + _MAX_SENTENCE
        out.append(Sentence(start, cut))
        start = cut
    out.append(Sentence(start, end))
    return out


_ANCHORS = {
    "signed": re.compile(r"(?:签订|签署|签约|签字|订立)(?:日期|时间|日)[\s:：*|]*$"),
    "effective": re.compile(
        r"(?:生效日期|生效日|生效时间|起始日期|开始日期|起租日|effective date)[\s:：为是*|]*$", re.IGNORECASE
    ),
    "invoice": re.compile(r"(?:开票日期|发票日期|开具日期|invoice date)[\s:：*|]*$", re.IGNORECASE),
    "quote": re.compile(r"(?:报价日期|报价时间|quotation date|quote date)[\s:：*|]*$", re.IGNORECASE),
}
_AFTER = {
    "signed": re.compile(r"^\s*(?:由双方)?(?:签订|签署|签约)"),
    "effective": re.compile(r"^\s*(?:起)?(?:正式)?生效"),
}


def anchor_date(texts: list[str], spans: list[list[DateSpan]], which: str) -> dt.date | None:
    """The first date the texts label as ``which``: ``signed``, ``effective``, ``invoice`` or ``quote``.

    A label before the date (签订日期：…, 开票日期：…) or, for signing and taking effect,
    words after it (…于2024年3月1日签订, 自2024年3月1日起生效).
    """
    label, after = _ANCHORS[which], _AFTER.get(which)
    for text, page_spans in zip(texts, spans, strict=True):
        for d in page_spans:
            if label.search(label_before(text, d.start, 16)):
                return d.value
            if after is not None and after.match(text[d.end : d.end + 8]):
                return d.value
    return None

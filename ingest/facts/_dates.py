"""Calendar dates, normalised to ISO (``2024-03-15``).

Forms: 2024年3月15日, 2024-03-15, 2024/3/15, 2024.03.15, 二〇二四年三月十五日, 15 March 2024,
24/03/2024 (day or month first only where the day is over 12),
Mar 15, 2024, an RFC 2822 e-mail date (Thu, 14 Mar 2024 08:49:54 +0800), and 20240315
after a date label.  A date must be a real calendar day and must not sit inside a longer
digit run or a code (BJ20240312-08, HT-2024-03-15-01).
"""

from __future__ import annotations

import datetime as dt
import re

from ingest.facts._common import Found, half_width, label_before, role_before

_MIN_YEAR, _MAX_YEAR = 1900, 2100

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_NOT_AFTER_CODE = r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][\-_/.])"
# After the day: no more digits or code characters, but a time may follow, even glued by
# OCR (2024/8/2315:00) or ISO style (2024-03-15T09:30).
_NOT_BEFORE_CODE = r"(?:(?=\d{1,2}:\d{2})|(?![0-9]|[\-/.][0-9A-Za-z]|(?!T\d)[A-Za-z]))"

_CN = re.compile(_NOT_AFTER_CODE + r"(?P<y>\d{4})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号]")
_NUMERIC = re.compile(
    _NOT_AFTER_CODE + r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _NOT_BEFORE_CODE
)
# Day or month first (24/03/2024, 03/24/2024): only where the day is over 12, so that the
# order is certain; 03/05/2024 is left alone.
_NUMERIC_YEAR_LAST = re.compile(
    _NOT_AFTER_CODE + r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})" + _NOT_BEFORE_CODE
)
_CN_DIGITS = "〇○零Ｏ一二三四五六七八九"
_HANZI = re.compile(
    r"(?P<y>[〇○零Ｏ一二三四五六七八九]{4})\s?年\s?(?P<m>[一二三四五六七八九十]{1,2})\s?月\s?"
    r"(?P<d>[一二三四五六七八九十]{1,3})\s?[日号]"
)
_WEEKDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s+)?"
_RFC2822 = re.compile(
    r"(?<![A-Za-z0-9])" + _WEEKDAY + r"(?P<d>\d{1,2})\s+" + _MONTH + r"\s+(?P<y>\d{4})"
    r"\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:[+-]\d{4}|[A-Z]{2,4}|\([A-Z]{2,4}\)))*"
)
_EN_DMY = re.compile(
    r"(?<![A-Za-z0-9])"
    + _WEEKDAY
    + r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MONTH
    + r",?\s+(?P<y>\d{4})"
    r"(?![0-9])",
    re.IGNORECASE,
)
_EN_MDY = re.compile(
    r"(?<![A-Za-z0-9])" + _WEEKDAY + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})(?![0-9])",
    re.IGNORECASE,
)
_EN_DASHED = re.compile(
    r"(?<![A-Za-z0-9])(?P<d>\d{1,2})[-/ ]" + _MONTH + r"[-/ ](?P<y>\d{4})(?![0-9])", re.IGNORECASE
)
_COMPACT = re.compile(
    r"(?<![0-9A-Za-z\-_/.])(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})(?![0-9A-Za-z\-_/])"
)
_DATE_LABEL = re.compile(r"(?:日期|时间|date|dated)\s*[:：]?\s*$", re.IGNORECASE)


def _iso(y: int, m: int, d: int) -> str | None:
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def _hanzi_number(s: str) -> int | None:
    """一 .. 三十一 (as used for months and days)."""
    digits = {ch: i for i, ch in enumerate("零一二三四五六七八九")}
    if s == "十":
        return 10
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = digits.get(head, -1) if head else 1
        ones = digits.get(tail, -1) if tail else 0
        return None if tens < 0 or ones < 0 else tens * 10 + ones
    return digits.get(s) if len(s) == 1 else None


def _hanzi_year(s: str) -> int | None:
    digits = {
        "〇": 0,
        "○": 0,
        "零": 0,
        "Ｏ": 0,
        **{ch: i for i, ch in enumerate("零一二三四五六七八九") if i},
    }
    try:
        return int("".join(str(digits[ch]) for ch in s))
    except KeyError:
        return None


def parse_date(s: str) -> str | None:
    """One date in any supported surface form -> ISO ``YYYY-MM-DD``, or None."""
    s = half_width(s).strip()
    for f in find_dates(s):
        if f.start == 0 and f.end == len(s):
            return f.value
    m = _COMPACT.fullmatch(s)
    if m:
        return _iso(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    return None


def find_dates(text: str) -> list[Found]:
    """Calendar dates of one text."""
    out: list[Found] = []

    def add(m: re.Match[str], y: int | None, mo: int | None, d: int | None, priority: int = 0) -> None:
        if y is None or mo is None or d is None:
            return
        value = _iso(y, mo, d)
        if value is not None:
            out.append(
                Found("date", value, m.start(), m.end(), role=role_before(text, m.start()), priority=priority)
            )

    for m in _CN.finditer(text):
        add(m, int(m.group("y")), int(m.group("m")), int(m.group("d")))
    for m in _NUMERIC.finditer(text):
        add(m, int(m.group("y")), int(m.group("m")), int(m.group("d")))
    for m in _NUMERIC_YEAR_LAST.finditer(text):
        a, b = int(m.group("a")), int(m.group("b"))
        if (a > 12) != (b > 12):
            add(m, int(m.group("y")), min(a, b), max(a, b))
    if "年" in text:
        for m in _HANZI.finditer(text):
            add(m, _hanzi_year(m.group("y")), _hanzi_number(m.group("m")), _hanzi_number(m.group("d")))
    for pattern in (_RFC2822, _EN_DMY, _EN_MDY, _EN_DASHED):
        for m in pattern.finditer(text):
            add(m, int(m.group("y")), _MONTHS[m.group("mon")[:3].lower()], int(m.group("d")))
    for m in _COMPACT.finditer(text):
        if _DATE_LABEL.search(label_before(text, m.start(), 12)):
            add(m, int(m.group("y")), int(m.group("m")), int(m.group("d")))
    return out

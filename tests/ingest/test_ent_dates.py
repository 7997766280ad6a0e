"""Calendar dates in Chinese, numeric and English forms, and digit runs that are not dates."""

from __future__ import annotations

import pytest

from ingest import parse_date
from ingest.facts._entities import find_all


def dates(text: str) -> list[str]:
    return [f.value for f in find_all(text) if f.kind == "date"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("签订日期：2024年3月15日", "2024-03-15"),
        ("2024 年 3 月 5 日", "2024-03-05"),
        ("2024-03-15", "2024-03-15"),
        ("2024/3/15", "2024-03-15"),
        ("2024.03.15", "2024-03-15"),
        ("二〇二四年三月十五日", "2024-03-15"),
        ("二〇二三年十二月三十一日", "2023-12-31"),
        ("15 March 2024", "2024-03-15"),
        ("Mar 15, 2024", "2024-03-15"),
        ("March 15th, 2024", "2024-03-15"),
        ("15-Mar-2024", "2024-03-15"),
        ("Thu, 14 Mar 2024 08:49:54 +0800", "2024-03-14"),
        ("日期2024/3/15止", "2024-03-15"),
        ("会议时间：2024/8/2315:00-16:30", "2024-08-23"),
        ("2024年8月28日14:30开始", "2024-08-28"),
        ("2024-03-15T09:30:00", "2024-03-15"),
        ("日期：20240315", "2024-03-15"),
        ("２０２４年３月１５日", "2024-03-15"),
    ],
)
def test_date_forms(text: str, want: str) -> None:
    """Each usual way of writing a date gives its ISO form, glued to Chinese text or a time too."""
    assert dates(text) == [want]


def test_rfc2822_header_is_one_mention() -> None:
    """An e-mail Date header is highlighted whole, weekday and time included."""
    text = "Date: Fri, 25 Oct 2024 16:07:35 +0800"
    (found,) = [f for f in find_all(text) if f.kind == "date"]
    assert text[found.start : found.end] == "Fri, 25 Oct 2024 16:07:35 +0800"


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30",
        "2023年2月29日",
        "2024/13/01",
        "报价单号：BJ20240312-08",
        "订单号 DD20231006059",
        "合同编号 HT-2024-03-15-01",
        "批次20240315001",
        "20240315",
        "版本2024.1.2.3",
        "v2024-03-15",
        "IMG_20240401_093012.jpg",
        "日期：      年    月    日",
    ],
)
def test_not_dates(text: str) -> None:
    """Impossible days, dates inside codes or longer digit runs, and blank date fields are no dates."""
    assert dates(text) == []


def test_leap_day() -> None:
    """29 February exists only in leap years."""
    assert dates("2024年2月29日 2023年2月29日") == ["2024-02-29"]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("2024/3/15", "2024-03-15"),
        ("2024年3月15日", "2024-03-15"),
        ("Mar 15, 2024", "2024-03-15"),
        ("20240315", "2024-03-15"),
        ("2024-02-30", None),
        ("明天", None),
    ],
)
def test_parse_date(raw: str, want: str | None) -> None:
    """parse_date reads one date, as a date filter in a query would give it."""
    assert parse_date(raw) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [("日期：17/11/2023", ["2023-11-17"]), ("Date: 11/17/2023", ["2023-11-17"]), ("日期：05/11/2023", [])],
)
def test_day_or_month_first_only_when_certain(text: str, want: list[str]) -> None:
    """24/03/2024 and 03/24/2024 are read; 05/11/2023 could be either and is left alone."""
    assert dates(text) == want

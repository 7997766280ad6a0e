"""XLSX: one page per sheet, cells as Excel displays them, truncated workbooks are broken."""

from __future__ import annotations

import datetime as dt
import io

import pytest

import ingest
from ingest.formats._xlsx import format_cell
from tests.ingest.conftest import dev_file


@pytest.mark.parametrize(
    "value,fmt,shown",
    [
        (1234.5, "#,##0.00", "1,234.50"),
        (120600, "#,##0.00", "120,600.00"),
        (0.125, "0.0%", "12.5%"),
        (-1234, '_(* #,##0_);_(* \\(#,##0\\);_(* "—"_);_(@_)', "(1,234)"),
        (0, '_(* #,##0_);_(* \\(#,##0\\);_(* "—"_);_(@_)', "—"),
        (5, "[$¥-804]#,##0.00", "¥5.00"),
        (42, "General", "42"),
        (dt.datetime(2023, 10, 6), "yyyy-mm-dd", "2023-10-06"),
        (dt.datetime(2023, 10, 6), 'yyyy"年"m"月"d"日"', "2023年10月6日"),
        (dt.datetime(2023, 1, 2, 13, 5), "h:mm", "13:05"),
    ],
)
def test_number_formats(value: object, fmt: str, shown: str) -> None:
    """Common number and date formats render as Excel shows them."""
    assert format_cell(value, fmt) == shown


def test_sheets_are_pages_and_formats_apply() -> None:
    """Each sheet is a page; a formatted amount appears as displayed, a row is TAB-joined."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    ws.append(["订单号", "金额", "日期"])
    ws.append(["DD1", 120600, dt.datetime(2023, 10, 6)])
    ws["B2"].number_format = "#,##0.00"
    ws["C2"].number_format = "yyyy-mm-dd"
    wb.create_sheet("空表")
    buf = io.BytesIO()
    wb.save(buf)
    doc = ingest.parse_bytes(buf.getvalue(), "o.xlsx")
    assert len(doc.pages) == 2
    assert doc.pages[0].text == "订单号\t金额\t日期\nDD1\t120,600.00\t2023-10-06"
    assert doc.pages[1].text == ""


def test_truncated_workbook_is_broken() -> None:
    """An XLSX cut in half raises BrokenFile."""
    with pytest.raises(ingest.BrokenFile):
        ingest.parse_file(dev_file("bad/订单导出_损坏.xlsx"))

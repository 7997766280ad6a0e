"""HTML: visible text and <title>; scripts, styles and attribute values never appear."""

from __future__ import annotations

import ingest
from tests.ingest.conftest import dev_file


def test_hostile_html_yields_only_visible_text() -> None:
    """Script bodies, event handlers and javascript: URLs stay out; the visible word is in."""
    doc = ingest.parse_file(dev_file("bad/产品介绍_蓝鲸.html"))
    assert "蓝鲸计划" in doc.text
    assert "XSSCANARY" not in doc.text and "document.cookie" not in doc.text


def test_title_first_and_table_cells_tabbed() -> None:
    """The <title> is the first line and the title; table cells are TAB-joined; <br> breaks lines."""
    html = (
        "<html><head><title>客户档案 - 鸿运</title><style>p{color:red}</style></head><body>"
        "<p>客户简称：<b>鸿运</b></p><table><tr><th>姓名</th><th>手机</th></tr>"
        "<tr><td>罗毅佳</td><td>19815543422</td></tr></table>第一行<br>第二行"
        "<img alt='SECRET' src='x' onerror='alert(1)'><script>var a='SCRIPT'</script></body></html>"
    )
    doc = ingest.parse_bytes(html.encode(), "c.html")
    assert doc.title == "客户档案 - 鸿运"
    assert doc.text.splitlines() == [
        "客户档案 - 鸿运",
        "客户简称：鸿运",
        "姓名\t手机",
        "罗毅佳\t19815543422",
        "第一行",
        "第二行",
    ]


def test_meta_charset_is_honoured() -> None:
    """A GBK page declaring its charset decodes correctly."""
    html = '<html><head><meta charset="gbk"><title>报价</title></head><body>服务器</body></html>'
    assert "服务器" in ingest.parse_bytes(html.encode("gbk"), "q.htm").text

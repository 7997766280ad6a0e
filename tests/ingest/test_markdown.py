"""Markdown: rendered text without markup, tables TAB-joined, title from the first heading."""

from __future__ import annotations

import ingest


def test_rendered_text_and_table() -> None:
    """Markup marks disappear, table rows become TAB-joined lines, the heading is the title."""
    md = (
        "# 产品购销合同\n\n- **签订日期**：2023年12月13日\n\n| 序号 | 产品名称 |\n|---|---|\n| 1 | 防火墙 |\n"
    )
    doc = ingest.parse_bytes(md.encode(), "c.md")
    assert doc.format == "md" and doc.title == "产品购销合同"
    assert "签订日期：2023年12月13日" in doc.text
    assert "序号\t产品名称" in doc.text and "1\t防火墙" in doc.text
    assert "**" not in doc.text

"""DOCX: header first, body order, table rows TAB-joined; XML attacks refused."""

from __future__ import annotations

import io

import pytest

import ingest


def _docx() -> bytes:
    from docx import Document

    d = Document()
    d.sections[0].header.paragraphs[0].text = "杭州云帆信息技术有限公司 内部资料"
    d.add_paragraph("会议纪要")
    t = d.add_table(rows=2, cols=3)
    for r, row in enumerate([["序号", "事项", "负责人"], ["1", "提交报价", "张三"]]):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    d.add_paragraph("结束")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_header_body_and_table_rows() -> None:
    """The header paragraph comes first, then body order; a table row is one TAB-joined line."""
    doc = ingest.parse_bytes(_docx(), "m.docx")
    lines = doc.text.splitlines()
    assert lines[0] == "杭州云帆信息技术有限公司 内部资料"
    assert "序号\t事项\t负责人" in lines and "1\t提交报价\t张三" in lines
    assert lines.index("会议纪要") < lines.index("序号\t事项\t负责人") < lines.index("结束")
    assert doc.format == "docx" and len(doc.pages) == 1 and doc.language == "zh"


def test_billion_laughs_is_refused() -> None:
    """A DOCX declaring nested entities fails fast with BrokenFile."""
    from tests.ingest.conftest import dev_file

    with pytest.raises(ingest.BrokenFile):
        ingest.parse_file(dev_file("bad/合同模板_实体扩展.docx"))


def test_external_entity_is_never_resolved() -> None:
    """A DOCX with an XXE to /etc/passwd is refused; nothing of the file leaks."""
    from tests.ingest.conftest import dev_file

    with pytest.raises(ingest.IngestError) as info:
        ingest.parse_file(dev_file("bad/客户名单_外部实体.docx"))
    assert "root:" not in str(info.value)

"""Text helpers: normalisation, language and titles."""

from __future__ import annotations

from ingest._text import clean_title, first_line_title, language, normalize


def test_normalize_is_light() -> None:
    """NFC, LF newlines, no trailing spaces; full-width characters are NOT folded (the index does NFKC)."""
    assert normalize("ＡＢＣ１２３  \r\n第二行\x00") == "ＡＢＣ１２３\n第二行"


def test_language() -> None:
    """Chinese, English and mixed texts are told apart; no letters gives ""."""
    assert language("上海明远科技有限公司销售合同") == "zh"
    assert language("This quotation is valid for thirty days.") == "en"
    assert (
        language("销售合同条款如下，请双方确认。\nThe kick-off meeting is scheduled for next week.")
        == "mixed"
    )
    assert language("12345 ---") == ""


def test_titles() -> None:
    """Boilerplate metadata titles are ignored; the first meaningful line is used instead."""
    assert clean_title("Microsoft Word - 合同.docx") == "合同"
    assert clean_title("Untitled") == ""
    assert first_line_title("\n# 产品购销合同\n合同编号：1") == "产品购销合同"

"""E-mail: decoded header lines and body; attachments become children with decoded names."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

import ingest
from tests.ingest.conftest import first_dev


def _mail(html_only: bool = False) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "【报价】服务器扩容项目报价单"
    msg["From"] = "徐云诗 <yunshixu@yunfan-it.com>"
    msg["To"] = "彭斌 <pengbin@jincheng.com.cn>"
    msg["Date"] = "Thu, 14 Mar 2024 08:49:54 +0800"
    if html_only:
        msg.set_content(
            "<p>彭总您好，</p><script>EVIL</script><p>报价见附件。</p>", subtype="html", charset="gb2312"
        )
    else:
        msg.set_content("彭总您好，\n报价见附件。", charset="gb2312")
    msg.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="报价单_锦程物流.pdf"
    )
    return msg.as_bytes()


def test_headers_body_and_attachment() -> None:
    """Subject/From/To/Date lines come first (RFC 2047 decoded), then the GB2312 body; the PDF is a child."""
    doc = ingest.parse_bytes(_mail(), "m.eml")
    lines = doc.text.splitlines()
    assert lines[0] == "Subject: 【报价】服务器扩容项目报价单"
    assert lines[1].startswith("From: 徐云诗")
    assert "报价见附件。" in doc.text
    assert doc.title == "【报价】服务器扩容项目报价单"
    assert [(c.filename, c.relation) for c in doc.children] == [("报价单_锦程物流.pdf", "attachment")]


def test_html_only_body_becomes_visible_text() -> None:
    """An HTML-only body is converted to visible text; script content is dropped."""
    doc = ingest.parse_bytes(_mail(html_only=True), "m.eml")
    assert "报价见附件。" in doc.text and "EVIL" not in doc.text


def test_children_refused_beyond_max_depth() -> None:
    """An e-mail with attachments at the deepest allowed level raises LimitExceeded."""
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_bytes(_mail(), "m.eml", depth=2, limits=ingest.Limits(max_depth=2))


def test_corpus_mail_attachments_parse() -> None:
    """Corpus e-mail attachments come back as children that parse on their own."""
    for path in sorted(first_dev("emails/*.eml").parent.glob("*.eml")):
        doc = ingest.parse_file(path)
        for child in doc.children:
            assert ingest.parse_bytes(child.data, child.filename, depth=1).text


def test_an_outlook_sent_line_keeps_the_date() -> None:
    """An e-mail saved as text by Outlook has "Sent:" instead of "Date:"; its date stays in the text and is found."""
    raw = (
        "From: 王磊 <wanglei@example.cn>\r\nSent: 2024年3月5日 10:12\r\nTo: 李娜 <lina@example.cn>\r\n"
        "Subject: 报价确认\r\n\r\n李经理您好，报价已确认。\r\n"
    ).encode()
    doc = ingest.parse_bytes(raw, "mail.txt")
    assert doc.format == "eml" and "Sent: 2024年3月5日 10:12" in doc.text
    found = ingest.extract_entities([p.text for p in doc.pages])
    assert "2024-03-05" in {e.value for e in found if e.kind == "date"}

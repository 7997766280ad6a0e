"""Outlook messages (.msg) via python-oxmsg (the reader ``unstructured.partition_msg`` uses).

Text like an .eml: Subject/From/To/Cc/Date lines, then the plain body (or the HTML body as
visible text).  By-value attachments become children; embedded messages that oxmsg cannot
hand back as bytes are listed in a warning instead.
"""

from __future__ import annotations

from typing import Any

from foundation import messages
from ingest._model import ChildFile, Page
from ingest.formats._html import decode_html, visible_text
from ingest.formats._mail import check_children_allowed, header_block, safe_name
from ingest.formats._types import Extraction, ParseContext

_PID_RECIPIENT_TYPE = 0x0C15


def _recipient_type(r: Any) -> int:
    try:
        return int(r.properties.int_prop_value(_PID_RECIPIENT_TYPE) or 1)
    except Exception:  # missing/odd property: treat as To
        return 1


def _fmt(r: Any) -> str:
    name, addr = (r.name or "").strip(), (r.email_address or "").strip()
    if name and addr and name != addr:
        return f"{name} <{addr}>"
    return name or addr


class MsgExtractor:
    """Outlook .msg files."""

    name = "msg"
    formats = frozenset({"msg"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Header lines and body; by-value attachments as children."""
        from oxmsg import Message

        msg = Message.load(data)
        to: list[str] = []
        cc: list[str] = []
        for r in msg.recipients:
            (cc if _recipient_type(r) == 2 else to).append(_fmt(r))
        sent = msg.sent_date
        fields = [
            ("Subject", msg.subject or ""),
            ("From", msg.sender or ""),
            ("To", ", ".join(t for t in to if t)),
            ("Cc", ", ".join(c for c in cc if c)),
            ("Date", sent.isoformat(sep=" ") if sent else ""),
        ]
        body = msg.body or ""
        if not body.strip() and msg.html_body:
            html = msg.html_body
            body = visible_text(html if isinstance(html, str) else decode_html(html))[1]
        text = header_block(fields) + ("\n\n" + body if body.strip() else "")
        children, warnings = [], []
        for i, att in enumerate(msg.attachments, 1):
            payload = att.file_bytes
            if not payload:
                warnings.append(messages.msg("ingest.mail.attachment_unreadable", number=i).dumps())
                continue
            children.append(
                ChildFile(
                    filename=safe_name(att.file_name, f"attachment-{i}"), data=payload, relation="attachment"
                )
            )
        check_children_allowed(ctx.depth, len(children), ctx.limits, "邮件附件")
        meta = {k.lower(): v for k, v in fields if v}
        return Extraction(
            pages=[Page(number=1, text=text)],
            title=msg.subject or "",
            children=children,
            warnings=warnings,
            metadata=meta,
        )


EXTRACTORS = (MsgExtractor(),)

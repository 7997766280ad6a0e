"""E-mail (.eml): header lines + decoded plain-text body; attachments become children.

Headers are RFC 2047-decoded; the body's declared charset is honoured (GB2312/GBK read as
GB18030) and a body that does not decode under it is re-detected; an HTML-only body is
turned into visible text.  Attachment names (RFC 2231/2047) are decoded and reduced to a
safe base name.  Attached e-mails (message/rfc822) are children too.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from email.message import EmailMessage, Message

from ingest._model import ChildFile, Page
from ingest._text import decode_text
from ingest.formats._html import visible_text
from ingest.formats._mail import check_children_allowed, header_block, safe_name
from ingest.formats._types import Extraction, ParseContext

_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
}


def _payload_text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = (part.get_content_charset() or "").lower()
    charset = _CHARSET_ALIASES.get(charset, charset)
    if charset and charset not in ("us-ascii", "ascii"):
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return decode_text(raw)[0]
    except Exception:  # binary junk in a text part: keep what reads
        return raw.decode("utf-8", errors="replace")


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not cost the whole message
        return ""
    return str(value) if value is not None else ""


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    filename = part.get_filename()
    if not filename:
        return part.get_content_type() == "message/rfc822"
    if disposition == "inline" and part.get_content_maintype() == "image":
        return False  # logos and signatures embedded in the HTML body
    return part.get_content_maintype() not in ("text",) or disposition != "inline"


def _body(msg: Message, attachments: Sequence[Message]) -> str:
    plain: list[str] = []
    html: list[str] = []
    for part in msg.walk():
        if part.is_multipart() or part in attachments:
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(_payload_text(part))
        elif ctype == "text/html":
            html.append(_payload_text(part))
    if plain:
        return "\n\n".join(plain)
    return "\n\n".join(visible_text(h)[1] for h in html)


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            return bytes(inner[0]) if isinstance(inner[0], Message) else b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


class EmlExtractor:
    """RFC 822 / MIME e-mail messages."""

    name = "eml"
    formats = frozenset({"eml"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Header lines, blank line, body text; attachments as ``ChildFile(relation="attachment")``."""
        msg = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        attachments = [p for p in msg.walk() if p is not msg and _is_attachment(p)]
        fields = [(k, _header(msg, k)) for k in ("Subject", "From", "To", "Cc", "Date")]
        if not fields[-1][1]:  # Outlook saves its date as "Sent:" (e-mails copied out as text)
            fields.append(("Sent", _header(msg, "Sent")))
        body = _body(msg, attachments)
        text = header_block(fields) + ("\n\n" + body if body.strip() else "")
        children = []
        for i, part in enumerate(attachments, 1):
            payload = _attachment_bytes(part)
            if not payload:
                continue
            default = (
                f"attachment-{i}.eml" if part.get_content_type() == "message/rfc822" else f"attachment-{i}"
            )
            children.append(
                ChildFile(
                    filename=safe_name(part.get_filename(), default), data=payload, relation="attachment"
                )
            )
        check_children_allowed(ctx.depth, len(children), ctx.limits, "邮件附件")
        subject = _header(msg, "Subject")
        meta = {k.lower(): v for k, v in fields if v}
        return Extraction(pages=[Page(number=1, text=text)], title=subject, children=children, metadata=meta)


EXTRACTORS = (EmlExtractor(),)

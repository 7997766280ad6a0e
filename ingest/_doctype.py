"""A first, explainable guess at a document's type from its title, file name and opening text.

Keyword evidence is weighed (title and file name count more than body text) and the
reason is returned with the guess.  Issue 4 replaces this with a fuller classifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from ingest._model import ParsedDocument

#: Document type codes with their Chinese and English labels.
DOC_TYPES: dict[str, tuple[str, str]] = {
    "contract": ("合同", "Contract"),
    "quote": ("报价单", "Quote"),
    "invoice": ("发票", "Invoice"),
    "meeting": ("会议纪要", "Meeting notes"),
    "visit": ("拜访记录", "Visit report"),
    "email": ("邮件", "E-mail"),
    "order": ("订单", "Order"),
    "proposal": ("方案", "Proposal"),
    "profile": ("客户档案", "Customer profile"),
    "other": ("其他", "Other"),
}

_KEYWORDS: dict[str, tuple[str, ...]] = {
    "invoice": ("发票", "价税合计", "发票代码", "发票号码", "invoice"),
    "contract": ("合同", "协议", "甲方", "乙方", "contract", "agreement"),
    "quote": ("报价", "quotation", "quote"),
    "meeting": ("会议纪要", "会议记录", "纪要", "meeting notes", "minutes"),
    "visit": ("拜访", "走访", "visit report"),
    "order": ("订单", "purchase order", "order summary"),
    "proposal": ("解决方案", "方案", "proposal"),
    "profile": ("客户档案", "客户资料", "customer profile"),
}

_HEAD_CHARS = 600


@dataclass(frozen=True)
class DocTypeGuess:
    """A type code and the evidence for it."""

    code: str
    reason: str


def guess_doc_type(parsed: ParsedDocument, filename: str = "") -> DocTypeGuess:
    """Guess the type; e-mails are e-mails, otherwise the best keyword score wins."""
    if parsed.format in ("eml", "msg"):
        return DocTypeGuess("email", f"文件格式为邮件（{parsed.format}）")
    strong = f"{parsed.title}\n{PurePath(filename).stem}".lower()
    head = parsed.text[:_HEAD_CHARS].lower()
    best, best_score, evidence = "other", 0, ""
    for code, words in _KEYWORDS.items():
        score, found = 0, []
        for word in words:
            if word in strong:
                score += 3
                found.append(f"标题/文件名含“{word}”")
            elif word in head:
                score += 1
                found.append(f"开头含“{word}”")
        if score > best_score:
            best, best_score, evidence = code, score, "，".join(found)
    if best == "other":
        return DocTypeGuess("other", "未找到类型关键词")
    return DocTypeGuess(best, evidence)

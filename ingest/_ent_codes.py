"""Credit codes (统一社会信用代码) and document numbers: contract, quote, order, invoice.

A credit code is checked under GB 32100-2015.  After its label (统一社会信用代码, 纳税人
识别号, 税号 …) an 18-character code is taken even when its check character is wrong
(``valid=False``, kept as printed, never corrected); without a label only a code whose
check character is right counts.  Document numbers are taken after their labels
(合同编号, 报价单号, 订单号, 发票代码/号码, Contract No. …) or under such a column header.
"""

from __future__ import annotations

import re

from ingest._entities import Found, cell_header

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {ch: i for i, ch in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_is_valid(code: str) -> bool:
    """True when ``code`` is an 18-character credit code whose check character is right."""
    code = code.strip().upper()
    if len(code) != 18 or any(ch not in _USCC_INDEX for ch in code):
        return False
    if not code[2:8].isdigit():
        return False
    total = sum(_USCC_INDEX[ch] * w for ch, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return _USCC_CHARS[check] == code[17]


_USCC_LABEL = (
    r"(?:统一社会信用代码|社会信用代码|信用代码|纳税人识别号|纳税识别号|税务登记号|税号|"
    r"USCC|Unified Social Credit Code|Credit Code|Tax ID|Tax No\.?|Taxpayer ID)"
)
# OCR may put spaces inside a printed code; the code itself has exactly 18 characters.
_CODE18 = r"(?P<code>[0-9A-Za-z](?: ?[0-9A-Za-z]){17})"
_USCC_LABELLED = re.compile(
    r"(?P<label>" + _USCC_LABEL + r")[）)]?\s*[:：]?[ \t|*]*" + _CODE18 + r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_USCC_BARE = re.compile(r"(?<![0-9A-Za-z\-])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z\-])")


def find_uscc(text: str) -> list[Found]:
    """Credit codes: after a label (any check result) or bare with a right check character."""
    out: list[Found] = []
    taken: set[int] = set()
    for m in _USCC_LABELLED.finditer(text):
        raw = m.group("code")
        code = raw.replace(" ", "").upper()
        if not any(ch.isdigit() for ch in code) or not code[2:8].isdigit():
            continue
        out.append(
            Found(
                "uscc",
                code,
                m.start("code"),
                m.end("code"),
                valid=uscc_is_valid(code),
                role=_short_label(m.group("label")),
                priority=2,
            )
        )
        taken.add(m.start("code"))
    for m in _USCC_BARE.finditer(text):
        if m.start() in taken or not uscc_is_valid(m.group()):
            continue
        out.append(Found("uscc", m.group(), m.start(), m.end(), priority=1))
    for start, end in _header_cells(text, _USCC_HEADER):
        code = text[start:end].replace(" ", "").upper()
        if start in taken or len(code) != 18 or not code[2:8].isdigit():
            continue
        out.append(Found("uscc", code, start, end, valid=uscc_is_valid(code), priority=2))
    return out


def _short_label(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip())


# Document numbers: letters, digits and - _ / . inside, at least one digit.
_DOCNO = r"(?P<code>[A-Za-z0-9](?:[A-Za-z0-9\-_/.]{0,38}[A-Za-z0-9])?)"
_NUMBER_LABELS = {
    "contract_no": (
        r"合同编号|合同号码?|协议编号|合同书编号|合同编码|Contract\s*(?:No\.?|Number|#)|Agreement\s*(?:No\.?|Number)"
    ),
    "quote_no": r"报价单号|报价单编号|报价编号|报价号|询价单号|Quot(?:e|ation)\s*(?:No\.?|Number|#|Ref\.?)",
    "order_no": (
        r"采购订单号|采购单号|订单编号|订单号码?|PO\s*(?:No\.?|Number|#)|P\.O\.\s*No\.?|"
        r"Purchase\s*Order\s*(?:No\.?|Number)|Order\s*(?:No\.?|Number|#)"
    ),
}
_NUMBER_LABELLED = {
    kind: re.compile(
        r"(?P<label>" + labels + r")(?![A-Za-z])\s*[)）]?\s*[:：#]?[ \t|*]*" + _DOCNO + r"(?![A-Za-z0-9\-_/])",
        re.IGNORECASE,
    )
    for kind, labels in _NUMBER_LABELS.items()
}
_NUMBER_HEADER = {
    kind: re.compile(r"^(?:" + labels + r")$", re.IGNORECASE) for kind, labels in _NUMBER_LABELS.items()
}
_USCC_HEADER = re.compile(r"^" + _USCC_LABEL + r"$", re.IGNORECASE)

_INVOICE_CODE = re.compile(
    r"(?P<label>发票代码|Invoice\s*Code)\s*[:：]?[ \t|*]*(?P<code>\d{12}|\d{10})(?!\d)", re.IGNORECASE
)
_INVOICE_NO = re.compile(
    r"(?P<label>发票号码|发票号|Invoice\s*(?:No\.?|Number))\s*[:：]?[ \t|*]*(?P<code>\d{20}|\d{8})(?!\d)",
    re.IGNORECASE,
)
_CELL = re.compile(r"[^\t|\n]+")


def _header_cells(text: str, header: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of table cells whose column header matches ``header``."""
    if "\t" not in text and "|" not in text:
        return []
    spans: list[tuple[int, int]] = []
    for m in _CELL.finditer(text):
        value = m.group()
        lead = len(value) - len(value.lstrip())
        start, end = m.start() + lead, m.start() + len(value.rstrip())
        if end <= start or not any(ch.isdigit() for ch in text[start:end]):
            continue
        head = cell_header(text, start)
        if head and header.match(head.strip(" *")):
            spans.append((start, end))
    return spans


def find_doc_numbers(text: str) -> list[Found]:
    """Contract, quote and order numbers after their labels or under their column header."""
    out: list[Found] = []
    for kind, pattern in _NUMBER_LABELLED.items():
        taken: set[int] = set()
        for m in pattern.finditer(text):
            code = m.group("code")
            if not any(ch.isdigit() for ch in code):
                continue
            out.append(
                Found(kind, code, m.start("code"), m.end("code"), role=_short_label(m.group("label")), priority=2)
            )
            taken.add(m.start("code"))
        for start, end in _header_cells(text, _NUMBER_HEADER[kind]):
            code = text[start:end]
            if start in taken or not re.fullmatch(_DOCNO, code):
                continue
            out.append(Found(kind, code, start, end, priority=2))
    return out


def find_invoice_numbers(text: str) -> list[Found]:
    """发票代码 (10 or 12 digits) and 发票号码 (8 digits, or 20 for a 数电票)."""
    out: list[Found] = []
    for kind, pattern in (("invoice_code", _INVOICE_CODE), ("invoice_no", _INVOICE_NO)):
        for m in pattern.finditer(text):
            out.append(
                Found(
                    kind,
                    m.group("code"),
                    m.start("code"),
                    m.end("code"),
                    role=_short_label(m.group("label")),
                    priority=2,
                )
            )
    return out


def find_codes(text: str) -> list[Found]:
    """Credit codes and document numbers of one text."""
    return find_uscc(text) + find_doc_numbers(text) + find_invoice_numbers(text)

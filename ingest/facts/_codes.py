"""Credit codes (统一社会信用代码) and document numbers: contract, quote, order, invoice.

A credit code is checked under GB 32100-2015.  After its label (统一社会信用代码, 纳税人
识别号, 税号 …) an 18-character code is taken even when its check character is wrong
(``valid=False``, kept as printed, never corrected); without a label only a code whose
check character is right counts.  Document numbers are taken after their labels
(合同编号, 报价单号, 订单号, 发票代码/号码, Contract No. …) or under such a column header, and in
running text when shaped like one (HT-2024-0315, SC/2024/033, (2024)京采字第0123号) with the
nearest kind word (合同, 报价, 订单, PO …) shortly before it.
"""

from __future__ import annotations

import re

from ingest.facts._common import Found, half_width, label_before, table_cells

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {ch: i for i, ch in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_is_valid(code: str) -> bool:
    """True when ``code`` is an 18-character credit code whose check character is right."""
    code = half_width(code).strip().upper()
    if len(code) != 18 or any(ch not in _USCC_INDEX for ch in code):
        return False
    if not code[2:8].isdigit():
        return False
    total = sum(_USCC_INDEX[ch] * w for ch, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return _USCC_CHARS[check] == code[17]


# Between a label and its value: spaces, a colon, markdown marks, an opening bracket,
# or one line break (HTML forms put the value under its label).
# An opening bracket that holds a year ((2024)京采字第0123号) belongs to the number itself.
_GAP = (
    r"[ \t]*[)）]?[ \t]*[:：;；#]?[ \t|*]*(?:\n[ \t]*)?(?:[【\[(（「](?!\d{4}[〕\]）)】]))?"
    r"(?:No\.?[ \t]?(?=[A-Za-z0-9]))?"
)


def _spaced(labels: str) -> str:
    """Let OCR and letter-spaced titles put a space between the characters of a Chinese label."""
    return re.sub(r"(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])", " ?", labels)


_USCC_LABEL = (
    r"(?:统一社会信用代码|社会统一信用代码|统一信用代码|社会信用代码|信用代码|纳税人识别号|纳税识别号|税务登记号|税号|"
    r"USCC|Unified Social Credit Code|Credit Code|Tax ID|Tax No\.?|Taxpayer ID)"
)
# OCR may put spaces inside a printed code; the code itself has exactly 18 characters.
_CODE18 = r"(?P<code>[0-9A-Za-z](?: ?[0-9A-Za-z]){17})"
_USCC_LABELLED = re.compile(
    r"(?P<label>" + _spaced(_USCC_LABEL) + r")" + _GAP + _CODE18 + r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_NOT_USCC_LABEL = re.compile(r"(?:身份证|证件|账号|帐号|卡号|护照|passport|account)", re.IGNORECASE)
_USCC_BARE = re.compile(
    r"(?<![0-9A-Za-z\-])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z\-])"
)


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
    for start, end in _header_cells(text, _USCC_HEADER):
        code = text[start:end].replace(" ", "").upper()
        if start in taken or len(code) != 18 or not code[2:8].isdigit():
            continue
        out.append(Found("uscc", code, start, end, valid=uscc_is_valid(code), priority=2))
        taken.add(start)
    for m in _USCC_BARE.finditer(text):
        # An all-digit bare code could be an ID card or account number that happens to check.
        if m.start() in taken or m.group().isdigit() or not uscc_is_valid(m.group()):
            continue
        if _NOT_USCC_LABEL.search(label_before(text, m.start(), 12)):
            continue
        out.append(Found("uscc", m.group(), m.start(), m.end(), priority=1))
    return out


def _short_label(label: str) -> str:
    label = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", label.strip())
    return re.sub(r"\s+", " ", label)


# Document numbers: letters, digits and - _ / . inside, at least one digit.
_DOCNO = r"(?P<code>[A-Za-z0-9](?:[A-Za-z0-9\-_/.]{0,38}[A-Za-z0-9])?)"
# After a document-number label also the official style: 云帆销字〔2024〕第015号, 沪合(2024)12号.
# Or with the year first: (2024)京采字第0123号, 〔2023〕粤政采第15号.
_OFFICIAL_BODY = (
    r"[\u4e00-\u9fffA-Za-z]{1,8}[〔\[（(【]\d{4}[〕\]）)】] ?第? ?[A-Za-z]?\d{1,6} ?号?"
    r"|[〔\[（(【]\d{4}[〕\]）)】] ?[\u4e00-\u9fffA-Za-z]{1,8}? ?第? ?[A-Za-z]?\d{1,6} ?号"
)
_OFFICIAL_NO = r"(?P<official>" + _OFFICIAL_BODY + r")"
_NUMBER_LABELS = {
    "contract_no": (
        r"合同编号|合同号码?|合同编码|合同书编号|协议编号|协议号|"
        r"Contract\s*(?:No\.?|Number|#|Ref\.?)|Agreement\s*(?:No\.?|Number)"
    ),
    "quote_no": r"报价单号|报价单编号|报价编号|报价号|询价单号|Quot(?:e|ation)\s*(?:No\.?|Number|#|Ref\.?)",
    "order_no": (
        r"采购订单号|采购订单编号|采购单号|订单编号|订单号码?|销售订单号|PO\s*(?:No\.?|Number|#)|P\.O\.\s*No\.?|"
        r"Purchase\s*Order\s*(?:No\.?|Number)|Order\s*(?:No\.?|Number|#)"
    ),
}
_NUMBER_LABELLED = {
    kind: re.compile(
        r"(?P<label>"
        + _spaced(labels)
        + r")(?![A-Za-z])"
        + _GAP
        + r"(?:"
        + _OFFICIAL_NO
        + r"|"
        + _DOCNO
        + r"(?![A-Za-z0-9\-_/]))",
        re.IGNORECASE,
    )
    for kind, labels in _NUMBER_LABELS.items()
}
_NUMBER_HEADER = {
    kind: re.compile(r"^(?:" + labels + r")$", re.IGNORECASE) for kind, labels in _NUMBER_LABELS.items()
}
_USCC_HEADER = re.compile(r"^" + _USCC_LABEL + r"$", re.IGNORECASE)

# A document number in running text ("合同草稿请审阅：HT-2024-1118", "订单DD20231006059已发货"):
# a kind word shortly before a code shaped like a document number (letters, then digits).
_KIND_WORDS = {
    "contract_no": r"合同|协议|contract|agreement",
    "quote_no": r"报价|quotation|quote",
    "order_no": r"订单|采购单|purchase order|\bPO\b|\border\b",
}
# Letter groups, then digits: HT-2024-0315, SC/2024/033, NW-Q-2024-0057, YF-QT-240318-02.
_SHAPED_NO = re.compile(
    r"(?<![A-Za-z0-9\-_/.@])"
    r"(?P<code>[A-Z]{1,6}(?:[-_/][A-Z]{1,6}){0,2}[-_/]?\d{4,}(?:[-_/][A-Z0-9]{1,10}){0,3})"
    r"(?![A-Za-z0-9\-_/@]|\.\w)"
)
# An official-style number in running text: 关于合同（2024）京采字第0123号的付款安排.
_OFFICIAL_RUNNING = re.compile(r"(?P<code>" + _OFFICIAL_BODY + r")")
_KIND_BEFORE = {
    kind: re.compile(r"(?:" + words + r")(?=[^\n]{0,16}$)", re.IGNORECASE)
    for kind, words in _KIND_WORDS.items()
}


def _nearest_kind(before: str) -> str | None:
    """The kind whose word stands closest before a number (合同金额按报价单YF-… is a quote number)."""
    best: tuple[int, str] | None = None
    for kind, pattern in _KIND_BEFORE.items():
        for m in pattern.finditer(before):
            if best is None or m.end() > best[0]:
                best = (m.end(), kind)
    return best[1] if best else None


# A bare 编号 / No. label: the document's own number; its head says which kind it is.
_PLAIN_NO = re.compile(
    r"(?P<label>(?<![\u4e00-\u9fff])编 ?号|(?<![A-Za-z])No\.)" + _GAP + _DOCNO + r"(?![A-Za-z0-9\-_/])"
)
_HEAD_KIND = (
    ("contract_no", re.compile(r"合 ?同|协 ?议|contract|agreement", re.IGNORECASE)),
    ("quote_no", re.compile(r"报 ?价|quotation", re.IGNORECASE)),
    ("order_no", re.compile(r"订 ?单|purchase order", re.IGNORECASE)),
)
_HEAD_CHARS = 200

_INVOICE_CODE = re.compile(
    r"(?P<label>" + _spaced("发?票代码") + r"|Invoice\s*Code)" + _GAP + r"(?P<code>\d{12}|\d{10})(?!\d)",
    re.IGNORECASE,
)
_INVOICE_NO = re.compile(
    r"(?P<label>"
    + _spaced("发?票号码|发票号")
    + r"|Invoice\s*(?:No\.?|Number))"
    + _GAP
    + r"(?P<code>\d{20}|\d{8})(?!\d)",
    re.IGNORECASE,
)


def _header_cells(text: str, header: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of table cells with a digit whose column header matches ``header``."""
    return [(c.start, c.end) for c in table_cells(text) if c.header and header.match(c.header.strip(" *"))]


def _found(kind: str, m: re.Match[str], priority: int, label: str = "") -> Found:
    return Found(
        kind, m.group("code"), m.start("code"), m.end("code"), role=_short_label(label), priority=priority
    )


def find_doc_numbers(text: str) -> list[Found]:
    """Contract, quote and order numbers: by label, column header, nearby kind word or the head."""
    out: list[Found] = []
    taken: set[int] = set()
    for kind, pattern in _NUMBER_LABELLED.items():
        for m in pattern.finditer(text):
            group = "official" if m.group("official") else "code"
            code = m.group(group)
            if any(ch.isdigit() for ch in code):
                out.append(
                    Found(
                        kind,
                        code,
                        m.start(group),
                        m.end(group),
                        role=_short_label(m.group("label")),
                        priority=2,
                    )
                )
                taken.add(m.start(group))
        for start, end in _header_cells(text, _NUMBER_HEADER[kind]):
            if start not in taken and re.fullmatch(_DOCNO, text[start:end]):
                out.append(Found(kind, text[start:end], start, end, priority=2))
                taken.add(start)
    for pattern in (_SHAPED_NO, _OFFICIAL_RUNNING):
        for m in pattern.finditer(text):
            if m.start("code") in taken:
                continue
            near = _nearest_kind(label_before(text, m.start(), 24))
            if near:
                out.append(_found(near, m, 1))
                taken.add(m.start("code"))
    head = text[:_HEAD_CHARS]
    for m in _PLAIN_NO.finditer(text):
        code = m.group("code")
        if m.start("code") in taken or not any(ch.isdigit() for ch in code) or len(code) < 4:
            continue
        # a kind word right before the label names it (技术服务合同No.…); another word
        # before "No." makes it some other number (Account No., Item No.)
        before = label_before(text, m.start(), 12)
        near = _nearest_kind(before)
        if near:
            out.append(_found(near, m, 1, m.group("label")))
            continue
        if re.search(r"[A-Za-z]\.?[ \t]*$", before):
            continue
        kinds = [kind for kind, pattern in _HEAD_KIND if pattern.search(head)]
        if len(kinds) == 1:
            out.append(_found(kinds[0], m, 1, m.group("label")))
    return out


def find_invoice_numbers(text: str) -> list[Found]:
    """发票代码 (10 or 12 digits) and 发票号码 (8 digits, or 20 for a 数电票)."""
    out: list[Found] = []
    for kind, pattern in (("invoice_code", _INVOICE_CODE), ("invoice_no", _INVOICE_NO)):
        for m in pattern.finditer(text):
            out.append(_found(kind, m, 2, m.group("label")))
    return out


def find_codes(text: str) -> list[Found]:
    """Credit codes and document numbers of one text."""
    return find_uscc(text) + find_doc_numbers(text) + find_invoice_numbers(text)

"""Due dates a document's text sets: a contract's end and renewal, a quote's validity, payment terms.

:func:`extract_due_dates` reads the page texts sentence by sentence and returns each date
with its kind (:data:`DUE_DATE_KINDS`), the sentence, and ``basis``: ``explicit`` (the date
is written) or ``from`` (counted from a signing, effective, invoice or quote date, or the
document's own date).

What it reads (full-width digits and Chinese numerals too; dates as 2025年3月1日,
二〇二五年三月一日, 2025-03-01, 2025/3/1, 2025.3.1 and the English forms of
:mod:`ingest.facts._dates`):

- **contract_end**: a term written as a range (合同有效期自2024年3月1日至2026年2月28日, 服务期限
  自…起至…止, 有效期：2024-03-01 至 2026-02-28, also across a line break); an end date
  (到期日 / 届满日 / 终止日期：…, 本合同于…到期); a period (合同期限为两年, 有效期三年, 自签订之日起
  12个月) counted from the date given in the sentence, else from 自签订之日起 / 自双方签字盖章之日起
  → the signing date, 自生效之日起 → the effective date, else the effective, signing or
  document date.  A term includes its first day: **end = start + period − 1 day**
  (2024-03-01 + 1 年 → 2025-02-28).
- **renewal**: 续签日期 / 续约日期：…, 应于…前办理续签; and 期满前30日…续约/续签 →
  the contract's end − 30 days (the end found in the document).
- **quote_valid**: 报价有效期至…, 有效期30天（至…）, 报价有效期30天 / 自报价之日起30日内有效 /
  Validity: 30 days from … → the quote's date (a date in the sentence, else 报价日期, else the
  document date) **+ N days** (a deadline counts from the day after).
- **payment_due**: 应于…前付款 / 付款截止日期：…; 收到发票后30日内付款 (invoice date in the text,
  else the document date), 合同签订后10日内支付 (signing date, else document date), 付款期限 /
  账期30天, 月结30天, Net 30 → reference **+ N days**.  Terms counted from an event whose
  date the text does not give (验收合格后, 货到后) and working days (个工作日) give nothing.
- **invoice_due**: the same payment forms on an invoice (``doc_type == "invoice"``) or about
  "本发票".

Never produced: impossible dates (2月30日 is not a date), a range that ends before it
starts, warranty / delivery / licence / meeting periods (质保期, 交货期, 营业执照有效期 …),
and relative terms without any reference date.  Each kind and date comes once (the
first sentence that sets it); a date written in a sentence wins over one counted in it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.facts._common import half_width
from ingest.facts._duetext import DateSpan, add_period, anchor_date, date_spans, parse_count, sentences

__all__ = ["DUE_DATE_KINDS", "DueDateFound", "extract_due_dates"]

#: Kinds of date a document can set (``records.DUE_DATE_KINDS`` is the same tuple).
DUE_DATE_KINDS = ("contract_end", "renewal", "quote_valid", "payment_due", "invoice_due")

_MAX_SENTENCE = 500


@dataclass(frozen=True)
class DueDateFound:
    """One due date: ``kind``, the date, and the sentence at ``start:end`` of page ``page`` (1-based)."""

    kind: str
    due_on: dt.date
    sentence: str
    basis: str  # "explicit" | "from"
    page: int
    start: int
    end: int


# -- the masked sentence: each date is one private-use character ------------------------------------

_D = "[\ue000-\ue0ff]"
_N = r"(?P<n>\d{1,4}|[零〇一二两三四五六七八九十百壹贰叁肆伍陆柒捌玖拾佰]{1,6})"
_UNIT = (
    r"\s*(?P<unit>个?工作日|个?自然日|个?日历日|个月|个星期|星期|周|天|日|月|年|business days?|working days?|"
    r"days?|weeks?|months?|years?)"
)
_UNITS = {
    "天": "day", "日": "day", "自然日": "day", "个自然日": "day", "日历日": "day", "个日历日": "day",
    "day": "day", "days": "day", "周": "week", "星期": "week", "个星期": "week", "week": "week",
    "weeks": "week", "个月": "month", "月": "month", "month": "month", "months": "month",
    "年": "year", "year": "year", "years": "year",
}  # fmt: skip

_QUOTE = re.compile(r"报价|询价|quot|估价")
_PAY = re.compile(
    r"付款|支付|付清|结清|汇款|汇至|汇入|回款|缴清|缴纳|结算|账期|月结|payment|payable|\bpay\b|\bnet\b"
)
_RENEW = re.compile(r"续签|续约|续订|续期|续租|续保|renew")
_CONTRACT = re.compile(
    r"合同|协议|期限|有效期|服务期|租期|租赁|合作期|履行期|维保期|订阅|授权期|许可期|届满|到期|终止|"
    r"\bterm\b|agreement|contract|expir"
)
# Periods and dates that are not any of the kinds (checked in the clause before the date or period).
_NOT_DUE = re.compile(
    r"质保|保修|保质|执照|证书|身份证|登记证|证件|证照|护照|资质|许可证|保函|投标|交货|交付|发货|到货|送达|验收|会议|培训|活动|展会|报名|"
    r"试用期|出生|工期|施工|实施|生日|保险|押金|warranty|deliver|meeting|licen[cs]e|passport|保密"
)
_INVOICE_DOC = re.compile(r"本发票|该发票|此发票|发票到期|到期付款日")


def _unit(raw: str) -> str | None:
    """The period unit of a written unit (None for working days: they need a holiday calendar)."""
    return _UNITS.get(raw.lower())


@dataclass
class _Doc:
    """What every sentence of one document may refer to."""

    doc_type: str
    doc_date: dt.date | None
    signed: dt.date | None
    effective: dt.date | None
    invoice: dt.date | None
    quote: dt.date | None


@dataclass
class _Masked:
    """A sentence with each date replaced by one character (``\\ue000`` + its index)."""

    text: str  # lower-cased for the English forms
    dates: list[dt.date]

    def date(self, ch: str) -> dt.date:
        return self.dates[ord(ch) - 0xE000]


_PRIVATE = re.compile(_D)


def _mask(text: str, start: int, end: int, spans: Sequence[DateSpan], starts: Sequence[int]) -> _Masked:
    """``text[start:end]`` with its dates (``spans``, whose ``starts`` are sorted) masked.

    Private-use characters of the text itself (PDF fonts produce them) become spaces first.
    """
    parts: list[str] = []
    dates: list[dt.date] = []
    pos = start
    for d in spans[bisect.bisect_left(starts, start) :]:
        if d.start >= end or len(dates) >= 256:
            break
        if d.end > end:
            continue
        parts.append(_PRIVATE.sub(" ", text[pos : d.start]))
        parts.append(chr(0xE000 + len(dates)))
        dates.append(d.value)
        pos = d.end
    parts.append(_PRIVATE.sub(" ", text[pos:end]))
    return _Masked("".join(parts).lower(), dates)


def _clause_before(s: str, pos: int, width: int = 16) -> str:
    """The text before ``pos`` back to the previous date or comma, at most ``width`` characters."""
    head = s[max(0, pos - width) : pos]
    cuts = [i for i, ch in enumerate(head) if ch in "，," or "\ue000" <= ch <= "\ue0ff"]
    return head[cuts[-1] + 1 :] if cuts else head


def _excluded(s: str, pos: int) -> bool:
    return bool(_NOT_DUE.search(_clause_before(s, pos, 14)))


# -- the forms -------------------------------------------------------------------------------------------------

_RANGE = re.compile(
    rf"(?P<a>{_D})\s*(?:起|开始)?[，,]?\s*(?:至|到|止于|—|–|-|~|～|\bto\b|\buntil\b|\bthrough\b)\s*(?P<b>{_D})"
)
_DEADLINE_LABEL = re.compile(
    r"(?:有效期限?|有效期间|截止日期?|截至|到期日期?|到期日|届满日期?|期满日期?|终止日期?|失效日期?|付款截止日期?|到期付款日|"
    r"付款日期?|最后付款日|最迟付款日|付款期限|续签日期|续约日期|续期日期|有效至|合同到期|valid until|valid through|"
    r"valid till|(?:in force|in effect) until|expires? on|expiry date|expiration date|due date|payment due|due on|due by|payment by|pay by|paid by|payable by)"
    r"[^\ue000-\ue0ff，,。]{0,10}?(?:为|是|：|:|至|到|截至|\s)*$"
)
_DEADLINE_AFTER = re.compile(r"^\s*(?:前|之前|以前)?\s*(?:到期|届满|终止|失效|止)")
_BY = re.compile(
    r"(?:于|在|应于|须于|请于|需于|必须于|最迟于|最晚于|不晚于|务必于|\bby\b|\bbefore\b|on or before)\s*$"
)
_BY_AFTER = re.compile(
    r"^\s*(?:前|之前|以前|当日|当天|止)?[^\ue000-\ue0ff，,。]{0,20}?"
    r"(?P<act>付款|支付|付清|结清|汇款|汇至|缴|续签|续约|续订|续期|\bpay|renew)"
)
_START = re.compile(r"(?:自|从|from)\s*$")
_PERIOD_LABEL = (
    r"(?:有效期限|有效期|合同期限|服务期限|租赁期限|期限|服务期|租期|租赁期|合作期|合同期|履行期|维保期|订阅期|授权期|"
    r"\bterm\b|validity|valid for|valid)"
)
_START_PHRASE = rf"(?:自|从|from)?\s*(?P<start>{_D}|[^，,。\ue000-\ue0ff]{{0,14}}?之日|签订|签署|报价)\s*(?:起|开始|后)?(?:计算|计|算)?"
_PERIOD = re.compile(
    rf"{_PERIOD_LABEL}\s*(?:为|是|：|:|共|均为)?\s*(?:{_START_PHRASE}[，,]?\s*)?(?:的|为期|为|共计|合计|共|计)?\s*{_N}{_UNIT}"
    rf"(?:\s*(?:from|after)\s*(?P<from>{_D}))?"
)
_FROM_PERIOD = re.compile(
    rf"(?:自|从)\s*(?P<start>{_D}|[^，,。\ue000-\ue0ff]{{0,14}}?之日)\s*(?:起|开始)(?:计算|算)?[，,]?\s*(?:为期|有效期|期限)?\s*(?:为|是)?\s*{_N}{_UNIT}"
)
_VALID_WITHIN = re.compile(rf"{_N}{_UNIT}\s*(?:内|之内|以内)?\s*有效")
_STARTS_AT = re.compile(rf"(?:自|从|from)\s*(?P<d>{_D})|(?P<d2>{_D})\s*(?:起|开始)")
_NAMED_START = re.compile(r"(?:自|从)(?P<phrase>[^，,。\ue000-\ue0ff]{0,14}?之日)\s*(?:起|开始)")
_PAY_AFTER = re.compile(
    rf"(?P<anchor>收到[^，,。\ue000-\ue0ff]{{0,14}}发票|开具发票|发票开具|开票|发票|invoice(?: date)?|合同签订|合同签署|签订|签署)"
    rf"(?:之日|日期)?\s*(?:后|起|以后|of|from|after)\s*(?:的)?\s*{_N}{_UNIT}"
)
_PAY_WITHIN = re.compile(
    rf"(?:within|in)\s*{_N}{_UNIT}\s*(?:of|from|after)\s*(?:the\s*)?(?P<anchor>invoice|receipt of invoice|signing)"
)
_PAY_TERM = re.compile(
    rf"(?:付款期限|付款期|账期|信用期|结算周期|结算期|回款期|payment terms?)\s*(?:为|是|：|:)?\s*"
    rf"(?:(?:开票|收到发票)(?:之日)?(?:后|起))?\s*{_N}{_UNIT}"
)
_NET = re.compile(rf"(?:月结|\bnet)\s*{_N}(?:\s*(?P<unit>天|日|days?))?")
_RENEW_BEFORE = re.compile(
    rf"(?:(?:期满|到期|届满|终止|结束)(?:之日|日)?\s*前|提前)\s*(?:的)?\s*(?:至少)?\s*{_N}{_UNIT}"
)


@dataclass
class _Hit:
    """A due date found in one sentence, before it becomes a :class:`DueDateFound`."""

    kind: str
    due_on: dt.date
    basis: str


def _kind_of_deadline(s: str, pos: int, act: str | None, label: str, doc: _Doc) -> str | None:
    """Which kind a written deadline at ``pos`` is, by its label and the sentence's words."""
    if _excluded(s, pos):
        return None
    if (act and _RENEW.search(act)) or _RENEW.search(label):
        return "renewal"
    if doc.doc_type == "invoice":
        return "invoice_due"  # an invoice's deadline is its payment's
    if (act and _PAY.search(act)) or _PAY.search(label):
        return "invoice_due" if _INVOICE_DOC.search(s) else "payment_due"
    if _QUOTE.search(s) or (doc.doc_type == "quote" and re.search(r"有效|valid", label)):
        return "quote_valid"
    if _PAY.search(s) and not _CONTRACT.search(label):
        return "invoice_due" if _INVOICE_DOC.search(s) else "payment_due"
    if _CONTRACT.search(s) or _CONTRACT.search(label) or doc.doc_type == "contract":
        return "contract_end"
    return None


def _start_of(m: _Masked, phrase: str | None, doc: _Doc, which: str) -> dt.date | None:
    """The date a period counts from (None: it names an event the text does not date).

    ``phrase`` is the start the period names (a date, ``签订之日`` …); else a start the sentence
    names, else a date it starts from (自2024年3月1日起), else the default of ``which``
    (``quote_valid``: the quote's date; ``contract_end``: the effective or signing date),
    falling back to the document's own date.
    """
    if phrase and len(phrase) == 1 and "\ue000" <= phrase <= "\ue0ff":
        return m.date(phrase)
    if phrase:
        if re.search(r"签订|签署|签字|盖章|签约|订立", phrase):
            return doc.signed or doc.effective or doc.doc_date
        if "生效" in phrase:
            return doc.effective or doc.signed or doc.doc_date
        if "报价" in phrase or (which == "quote_valid" and re.search(r"出具|报出|发出|签发", phrase)):
            return doc.quote or doc.doc_date
        if re.search(r"开票|发票", phrase):
            return doc.invoice or doc.doc_date
        if phrase.endswith("之日"):
            return None  # counted from an event the text does not date (验收合格之日)
    named = _NAMED_START.search(m.text)
    if named:
        return _start_of(m, named.group("phrase"), doc, which)
    written = _STARTS_AT.search(m.text)
    if written:
        return m.date(written.group("d") or written.group("d2"))
    if which == "quote_valid":
        return doc.quote or doc.doc_date
    return doc.effective or doc.signed or doc.doc_date


def _sentence_hits(m: _Masked, doc: _Doc) -> tuple[list[_Hit], list[tuple[int, str]]]:
    """Due dates of one masked sentence, and its renewal notices still waiting for the contract's end."""
    s = m.text
    hits: list[_Hit] = []
    used: set[str] = set()
    for r in _RANGE.finditer(s):
        a, b = m.date(r.group("a")), m.date(r.group("b"))
        used.update((r.group("a"), r.group("b")))
        if b < a or _excluded(s, r.start()):
            continue
        if _QUOTE.search(s):
            hits.append(_Hit("quote_valid", b, "explicit"))
        elif _CONTRACT.search(s) or doc.doc_type == "contract":
            hits.append(_Hit("contract_end", b, "explicit"))
    for i in range(len(m.dates)):
        ch = chr(0xE000 + i)
        pos = s.find(ch)
        if ch in used or pos < 0:
            continue
        before, after = s[max(0, pos - 24) : pos], s[pos + 1 : pos + 24]
        if _START.search(before) or re.match(r"\s*(?:起|开始)", after):
            continue  # a start, not a deadline
        label_m = _DEADLINE_LABEL.search(before)
        by_m = (
            _BY_AFTER.match(after) if _BY.search(before) or re.match(r"\s*(?:前|之前|以前)", after) else None
        )
        if label_m is None and by_m is None and not _DEADLINE_AFTER.match(after):
            continue
        label = _clause_before(s, pos, 16)
        kind = _kind_of_deadline(s, pos, by_m.group("act") if by_m else None, label, doc)
        if kind is not None:
            hits.append(_Hit(kind, m.date(ch), "explicit"))
    hits.extend(_periods(m, doc))
    renewals: list[tuple[int, str]] = []
    if _RENEW.search(s):
        for r in _RENEW_BEFORE.finditer(s):
            count, unit = parse_count(r.group("n")), _unit(r.group("unit"))
            if count is not None and unit is not None:
                renewals.append((count, unit))
    return hits, renewals


def _periods(m: _Masked, doc: _Doc) -> list[_Hit]:
    """Periods and payment terms counted from a date (written, anchored, or the document's own)."""
    s = m.text
    hits: list[_Hit] = []
    pay_spans: list[tuple[int, int]] = []
    for pattern in (_PAY_AFTER, _PAY_WITHIN, _PAY_TERM, _NET):
        for r in pattern.finditer(s):
            if not _PAY.search(s) or _excluded(s, r.start()):
                continue
            count, unit = parse_count(r.group("n")), _unit(r.group("unit") or "天")
            if count is None or unit is None:
                continue
            anchor = r.groupdict().get("anchor") or ""
            if re.search(r"签订|签署|signing", anchor):
                ref = doc.signed or doc.effective or doc.doc_date
            else:
                ref = doc.invoice or doc.doc_date
            due = add_period(ref, count, unit) if ref else None
            if due is not None:
                kind = "invoice_due" if doc.doc_type == "invoice" or _INVOICE_DOC.search(s) else "payment_due"
                hits.append(_Hit(kind, due, "from"))
                pay_spans.append(r.span())
    for pattern in (_PERIOD, _FROM_PERIOD, _VALID_WITHIN):
        for r in pattern.finditer(s):
            if any(a <= r.start() < b or r.start() <= a < r.end() for a, b in pay_spans):
                continue
            if _excluded(s, r.start()) or re.match(r"\s*内?(?:付款|支付)", s[r.end() : r.end() + 4]):
                continue
            count, unit = parse_count(r.group("n")), _unit(r.group("unit"))
            if count is None or unit is None or count == 0:
                continue
            groups = r.groupdict()
            phrase = groups.get("from") or groups.get("start")
            if _QUOTE.search(s) or (
                doc.doc_type == "quote" and not _CONTRACT.search(s.replace("有效期", ""))
            ):
                start = _start_of(m, phrase, doc, "quote_valid")
                due = add_period(start, count, unit) if start else None
                if due is not None:
                    hits.append(_Hit("quote_valid", due, "from"))
            elif _CONTRACT.search(s) or doc.doc_type == "contract":
                start = _start_of(m, phrase, doc, "contract_end")
                end = add_period(start, count, unit) if start else None
                if end is not None:
                    hits.append(_Hit("contract_end", end - dt.timedelta(days=1), "from"))
    return hits


def _sentence_text(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The sentence trimmed (line breaks inside it joined), at most 500 characters, and its span."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    end = min(end, start + _MAX_SENTENCE)
    joined = re.sub(r"\s*\n\s*", "", text[start:end])
    return joined[:_MAX_SENTENCE], start, end


def extract_due_dates(
    pages: Sequence[str], *, doc_date: str | None = None, doc_type: str | None = None
) -> list[DueDateFound]:
    """The due dates the page texts set, in page and sentence order (see the module's description).

    ``doc_date`` (ISO) is the document's own date, the reference of relative terms when the
    text names no signing, effective, invoice or quote date; ``doc_type`` (``contract``,
    ``quote``, ``invoice`` …) decides unlabelled validity terms and invoice payment dates.
    """
    texts = [half_width(p or "") for p in pages]
    spans = [date_spans(t) for t in texts]
    try:
        own = dt.date.fromisoformat(doc_date) if doc_date else None
    except ValueError:
        own = None
    doc = _Doc(
        doc_type=doc_type or "",
        doc_date=own,
        signed=anchor_date(texts, spans, "signed"),
        effective=anchor_date(texts, spans, "effective"),
        invoice=anchor_date(texts, spans, "invoice"),
        quote=anchor_date(texts, spans, "quote"),
    )
    out: list[DueDateFound] = []
    waiting: list[tuple[int, int, int, str, list[tuple[int, str]]]] = []  # renewal notices
    ends: list[tuple[int, int, dt.date]] = []
    for number, (text, page_spans) in enumerate(zip(texts, spans, strict=True), start=1):
        starts = [d.start for d in page_spans]
        for sent in sentences(text):
            masked = _mask(text, sent.start, sent.end, page_spans, starts)
            hits, renewals = _sentence_hits(masked, doc)
            sentence, start, end = _sentence_text(pages[number - 1] or "", sent.start, sent.end)
            written = {h.kind for h in hits if h.basis == "explicit"}
            for h in hits:
                if h.basis == "from" and h.kind in written:
                    continue
                out.append(DueDateFound(h.kind, h.due_on, sentence, h.basis, number, start, end))
                if h.kind == "contract_end":
                    ends.append((number, start, h.due_on))
            if renewals:
                waiting.append((number, start, end, sentence, renewals))
    for number, start, end, sentence, renewals in waiting:  # counted back from the contract's end
        earlier = [e for e in ends if (e[0], e[1]) <= (number, start)]
        contract_end = (earlier[-1] if earlier else ends[0])[2] if ends else None
        if contract_end is None:
            continue
        for count, unit in renewals:
            due = add_period(contract_end, -count, unit)
            if due is not None:
                out.append(DueDateFound("renewal", due, sentence, "from", number, start, end))
    out.sort(key=lambda f: (f.page, f.start))
    seen: set[tuple[str, dt.date]] = set()
    unique: list[DueDateFound] = []
    for f in out:
        if (f.kind, f.due_on) not in seen:
            seen.add((f.kind, f.due_on))
            unique.append(f)
    return unique

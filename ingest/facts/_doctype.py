"""An explainable guess at a document's type, from its content first and its file name last.

Evidence is weighed: the title (the document's first lines, its HTML/Office title) counts
most, then the labels and structures that each kind of document carries (发票代码 and
价税合计 on an invoice; 甲方/乙方, 合同编号 and a signature block on a contract; 报价单号
and a priced item table on a quote; 会议时间 and 参会人员 in meeting notes …), and the file
name only a little, because file names are often wrong (报价单_最终版.docx may hold a
contract).  A word that merely occurs in passing (a quote's terms "合同签订后30日内交货")
is not evidence.  The winner's reason names its strongest evidence, in Chinese and in English
(a :class:`~foundation.messages.Message`, shown in the reader's language).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from foundation.messages import Message, msg, texts
from foundation.variants import fold_variants
from ingest._model import Entity, ParsedDocument

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


def type_code(value: str) -> str:
    """The type code a code or its Chinese or English label names (``合同`` → ``contract``); else the value.

    The one reading of type names people type: search filters, the query syntax (``type:合同``),
    the CLI and document edits.
    """
    lowered = fold_variants(value.strip().lower())  # 報價單 is 报价单
    for code, (zh, en) in DOC_TYPES.items():
        if lowered in (code, zh, en.lower()):
            return code
    return value


@dataclass(frozen=True)
class DocTypeGuess:
    """A type code and the evidence for it (a message: Chinese and English, shown in the reader's)."""

    code: str
    reason: Message


@dataclass(frozen=True)
class _Cue:
    """One piece of evidence: a pattern, its weight, and how it is explained."""

    code: str
    pattern: re.Pattern[str]
    weight: int
    zh: str
    en: str


def _cue(code: str, pattern: str, weight: int, zh: str, en: str) -> _Cue:
    return _Cue(code, re.compile(pattern, re.IGNORECASE | re.MULTILINE), weight, zh, en)


# Title words: what a document calls itself in its first lines.  The longest that matches
# a line wins, so 会议纪要 beats 纪要 and 采购订单 beats 订单.
_TITLE_WORDS: tuple[tuple[str, str, str], ...] = (
    ("invoice", r"增值税(?:专用|普通|电子普通|电子专用)?发票|电子发票|发票|invoice|fapiao", "发票"),
    (
        "contract",
        r"(?:销售|采购|购销|技术服务|服务|维保|框架|保密|合作|租赁)?(?:合同|协议书?)|contract|agreement",
        "合同",
    ),
    ("quote", r"报\s*价\s*单|报价(?:函|书|方案)?|询价回复|quotation|price quote|\bquote\b", "报价单"),
    (
        "meeting",
        r"会议纪要|会议记录|会议备忘|纪要|meeting (?:notes|minutes)|minutes of (?:the )?meeting|\bminutes\b",
        "会议纪要",
    ),
    (
        "visit",
        r"拜访记录|拜访报告|客户拜访|走访记录|回访记录|拜访|回访|visit report|customer visit|call report",
        "拜访记录",
    ),
    (
        "order",
        r"销售订单|采购订单|订单(?:明细|汇总|确认)?|purchase order|sales order|order (?:confirmation|summary|details)",
        "订单",
    ),
    ("proposal", r"解决方案|技术方案|建议书|方案建议|方案|proposal|solution", "解决方案"),
    (
        "profile",
        r"客户档案|客户信息表|客户资料|客户信息|客户详情|customer profile|account profile|client profile",
        "客户档案",
    ),
    # genres that are none of the types above: a weekly report, a notice, a manual
    (
        "other",
        r"周报|月报|日报|年报|工作总结|工作汇报|述职报告|通知|公告|通告|简报|说明书|使用手册|操作手册|用户手册|"
        r"管理制度|管理办法|weekly report|monthly report|status report|notice|announcement|newsletter|"
        r"manual|handbook",
        "其他文书",
    ),
)
_TITLE_RES = [(code, re.compile(p, re.IGNORECASE), zh) for code, p, zh in _TITLE_WORDS]

# Structural evidence in the body.  Each cue counts once.
_CUES: tuple[_Cue, ...] = (
    # invoice
    _cue("invoice", r"发票代码", 4, "发票代码", "invoice code"),
    _cue("invoice", r"发票号码", 3, "发票号码", "invoice number"),
    _cue("invoice", r"价税合计", 4, "价税合计", "total incl. tax"),
    _cue("invoice", r"开票人|开票日期", 2, "开票人/开票日期", "issuer"),
    _cue("invoice", r"纳税人识别号", 2, "纳税人识别号", "taxpayer id"),
    _cue("invoice", r"密码区|校验码|机器编号", 2, "密码区/校验码", "cipher area"),
    _cue(
        "invoice",
        r"^\s*(?:购买方|销售方)|购买方名称|销售方名称",
        2,
        "购买方/销售方栏",
        "buyer and seller blocks",
    ),
    _cue("invoice", r"税率.{0,10}税额|tax amount|invoice no\.?|invoice date", 2, "税率/税额", "tax columns"),
    # contract
    _cue("contract", r"甲方[（(：:]|甲方\s*[:：]", 2, "甲方", "party A"),
    _cue("contract", r"乙方[（(：:]|乙方\s*[:：]", 2, "乙方", "party B"),
    _cue("contract", r"合同编号|协议编号|contract no", 3, "合同编号", "contract number"),
    _cue("contract", r"签订日期|签订地点|签署日期|签约日期", 2, "签订日期/地点", "signing date/place"),
    _cue("contract", r"[（(]盖章[）)]|签字盖章|签章|授权代表|法定代表人", 2, "签字盖章栏", "signature block"),
    _cue("contract", r"^\s*第[一二三四五六七八九十]+条", 3, "合同条款", "numbered articles"),
    _cue(
        "contract",
        r"违约责任|争议解决|不可抗力|保密条款",
        2,
        "违约/争议条款",
        "liability and dispute clauses",
    ),
    _cue("contract", r"本合同|本协议", 1, "“本合同”措辞", "'this contract' wording"),
    _cue(
        "contract",
        r"party a|party b|whereas|in witness whereof|governing law",
        3,
        "合同当事方条款",
        "contract parties",
    ),
    # quote
    _cue("quote", r"报价单号|报价编号|quotation no|quote no", 4, "报价单号", "quotation number"),
    _cue("quote", r"报价日期|报价人|报价单位", 3, "报价日期/报价人", "quotation date / sender"),
    _cue(
        "quote",
        r"报价有效期|有效期\s*\d+\s*天|validity|valid for \d+ days|valid until",
        2,
        "报价有效期",
        "validity",
    ),
    _cue("quote", r"报价(?:总计|合计|金额)|total amount", 2, "报价总计", "quoted total"),
    _cue("quote", r"现将.{0,12}报价如下|pleased to quote|报价如下", 3, "“报价如下”", "'we quote as follows'"),
    _cue("quote", r"客户确认[（(]?签字|accepted by", 1, "客户确认栏", "acceptance box"),
    _cue(
        "quote",
        r"^.*单价.*(?:小计|金额|合计).*$|^.*unit price.*(?:amount|total).*$",
        1,
        "单价/金额表",
        "priced item table",
    ),
    # meeting
    _cue("meeting", r"会议时间|会议日期|meeting date|date\s*/\s*time", 3, "会议时间", "meeting time"),
    _cue("meeting", r"会议地点|会议方式|location", 1, "会议地点", "venue"),
    _cue(
        "meeting",
        r"参会人员|与会人员|出席人员|参加人员|列席|attendees|participants",
        3,
        "参会人员",
        "attendees",
    ),
    _cue(
        "meeting",
        r"主持人|记录人|纪要整理|chair|minutes (?:taken )?by|note taker",
        2,
        "主持人/记录人",
        "chair and recorder",
    ),
    _cue("meeting", r"议题|议程|会议结论|会议内容|agenda|decisions", 2, "议题/结论", "agenda and decisions"),
    _cue("meeting", r"待办事项|行动项|后续行动|action items?|next steps", 2, "待办事项", "action items"),
    # visit
    _cue("visit", r"(?<!下次)(?<!下一次)拜访(?:日期|时间)|visit date", 4, "拜访日期", "visit date"),
    _cue("visit", r"拜访目的|purpose of (?:the )?visit|^\s*purpose", 3, "拜访目的", "purpose"),
    _cue(
        "visit",
        r"拜访方式|拜访人员|拜访人|被拜访人|客户接待人|回访人|回访方式|visited by|customer contact",
        3,
        "拜访人员",
        "visitors",
    ),
    _cue("visit", r"(?<!下次)回访(?:日期|时间)", 4, "回访日期", "follow-up visit date"),
    _cue(
        "visit",
        r"沟通要点|商机阶段|下一步计划|opportunity|key points|expected close",
        2,
        "沟通要点/商机",
        "key points and opportunity",
    ),
    # order
    _cue("order", r"订单号|订单编号|order no|po number|po no", 4, "订单号", "order number"),
    _cue("order", r"下单日期|订单日期|order date", 4, "下单日期", "order date"),
    _cue("order", r"交货日期|收货地址|发货|delivery date|ship to", 1, "交货/收货", "delivery"),
    _cue("order", r"(?:执行中|已完成|待回款|待发货|已发货)", 1, "订单状态", "order status"),
    # proposal
    _cue("proposal", r"项目背景|需求分析|背景与需求|background", 2, "项目背景", "background"),
    _cue(
        "proposal",
        r"总体方案|方案概述|架构设计|solution overview|architecture",
        3,
        "总体方案",
        "solution overview",
    ),
    _cue(
        "proposal",
        r"实施计划|实施步骤|项目计划|implementation plan|timeline",
        2,
        "实施计划",
        "implementation plan",
    ),
    _cue(
        "proposal",
        r"为什么选择|我们的优势|why (?:choose|us)|目录|agenda",
        1,
        "目录/为什么选择我们",
        "agenda / why us",
    ),
    # profile
    _cue("profile", r"客户档案|客户信息表|客户资料", 4, "客户档案", "customer record"),
    _cue(
        "profile", r"客户简称|所属行业|重要程度|客户类型|客户等级", 3, "客户简称/行业/等级", "customer fields"
    ),
    _cue("profile", r"跟进记录|联系记录|销售负责人", 2, "跟进记录", "follow-up log"),
)

_FORMAT_PRIOR = {"pptx": ("proposal", 1), "xlsx": ("order", 1), "csv": ("order", 1)}
_HEAD_LINES = 4
_HEAD_MAX = 60
_TITLE_WEIGHT = (8, 6, 4, 3)
_META_TITLE_WEIGHT = 4
_FILENAME_WEIGHT = 2
_MIN_SCORE = 5
_BODY_HEAD = 4000
_BODY_TAIL = 1500


_SECTION = re.compile(
    r"^(?:\d{1,2}[.、．)](?!\d)|[一二三四五六七八九十]{1,3}[、.．]|第[一二三四五六七八九十]{1,3}[条章节])"
)


def _head_lines(parsed: ParsedDocument) -> list[str]:
    """The document's title candidates: its metadata title, then its first short lines.

    Navigation bars ("首页 | 客户管理 | 合同") and page furniture are skipped.
    """
    lines: list[str] = []
    text = parsed.pages[0].text if parsed.pages else ""
    for raw in text.splitlines():
        line = raw.strip().lstrip("#").strip()
        if not line or (line.startswith(("=", "-", "—")) and len(set(line)) <= 2):
            continue
        if line.count("|") >= 2 or len(line) > _HEAD_MAX:
            if lines:
                break
            continue
        if lines and _SECTION.match(line):
            break  # numbered sections (一、本周工作, 1. 拜访…) start the body
        lines.append(
            re.sub(r"\s+", "", line) if re.search(r"[\u4e00-\u9fff]\s[\u4e00-\u9fff]", line) else line
        )
        if len(lines) >= _HEAD_LINES:
            break
    return lines


def _title_hits(line: str) -> list[tuple[str, str, int]]:
    """(code, matched word, position) of the title words in one line, longest first per code."""
    hits = []
    for code, pattern, _zh in _TITLE_RES:
        best: re.Match[str] | None = None
        for m in pattern.finditer(line):
            if best is None or len(m.group()) > len(best.group()):
                best = m
        if best:
            hits.append((code, best.group(), best.start()))
    return hits


def _title_score(line: str) -> dict[str, tuple[int, str]]:
    """Per code: the share (of 3) of a title line's weight and the word that earned it.

    A title names its own type at its start or its end ("会议纪要：…", "Meeting Notes: CRM
    Rollout", "金桥电气园区网络升级项目沟通会议纪要", "数据备份方案报价单（草稿）"), so a
    word there takes the full weight and a word inside the line a third of it.
    """
    out: dict[str, tuple[int, str]] = {}
    core = _TITLE_TAIL.sub("", line)
    for code, word, pos in _title_hits(core):
        at_edge = pos <= 1 or not core[pos + len(word) :].strip(" :：-_—·")
        share = 3 if at_edge else 1
        if code not in out or share > out[code][0]:
            out[code] = (share, word)
    return out


# What may follow a title's type word: a draft/version mark or a date.
_TITLE_TAIL = re.compile(
    r"(?:[\s_\-—]*(?:[（(【\[][^）)】\]]{0,12}[）)】\]]|v\d+(?:\.\d+)?|终稿|定稿|草稿|最终版|修订版|副本|"
    r"\d{4}[-./年]?\d{0,2}[-./月]?\d{0,2}日?))+\s*$",
    re.IGNORECASE,
)


def _add(scores: dict[str, int], evidence: dict[str, list[tuple[int, str, str]]], code: str, weight: int,
         zh: str, en: str) -> None:  # fmt: skip
    scores[code] = scores.get(code, 0) + weight
    evidence.setdefault(code, []).append((weight, zh, en))


def guess_doc_type(
    parsed: ParsedDocument, filename: str = "", entities: Iterable[Entity] = ()
) -> DocTypeGuess:
    """Guess the type from the title, the document's structure, and (weakly) the file name."""
    if parsed.format in ("eml", "msg"):
        return DocTypeGuess("email", msg("ingest.doctype.mail_file", format=parsed.format))
    scores: dict[str, int] = {}
    evidence: dict[str, list[tuple[int, str, str]]] = {}
    # Traditional characters are read as their simplified forms (報價單 is a 报价单): foundation.variants.
    heads = [fold_variants(line) for line in _head_lines(parsed)]
    titles = list(zip(heads, _TITLE_WEIGHT, strict=False))
    meta_title = fold_variants(parsed.title.strip())
    if meta_title and meta_title not in heads:
        # a file's stored title is often a template's leftover: it counts like a third line
        titles.append((meta_title, _META_TITLE_WEIGHT))
    for line, weight in titles:
        for code, (share, word) in _title_score(line).items():
            _add(scores, evidence, code, weight * share // 3, f"标题含“{word}”", f"title says '{word}'")
    # A form shows its labels early, a contract its signature block last; a manual that
    # mentions 订单号 on page 40 is not an order.
    text = parsed.text
    head = fold_variants(text[:_BODY_HEAD])
    tail = fold_variants(text[-_BODY_TAIL:]) if len(text) > _BODY_HEAD else ""
    for cue in _CUES:
        if cue.pattern.search(head) or (cue.code == "contract" and cue.pattern.search(tail)):
            _add(scores, evidence, cue.code, cue.weight, f"含{cue.zh}", cue.en)
    _mail_headers(fold_variants("\n".join(text.splitlines()[:10])), scores, evidence)
    _entity_cues(entities, scores, evidence)
    prior = _FORMAT_PRIOR.get(parsed.format)
    if prior:
        _add(scores, evidence, prior[0], prior[1], f"文件格式为{parsed.format}", f"{parsed.format} file")
    stem = fold_variants(PurePath(filename).stem)
    if stem:
        for code, (_share, word) in _title_score(stem).items():
            _add(scores, evidence, code, _FILENAME_WEIGHT, f"文件名含“{word}”", f"file name says '{word}'")
    if not scores:
        return DocTypeGuess("other", msg("ingest.doctype.no_evidence"))
    best = max(scores, key=lambda c: (scores[c], -list(DOC_TYPES).index(c)))
    if scores[best] < _MIN_SCORE:
        return DocTypeGuess("other", msg("ingest.doctype.too_little"))
    top: list[tuple[int, str, str]] = []
    for item in sorted(evidence[best], key=lambda e: -e[0]):
        title_again = item[1].startswith("标题含") and any(t[1].startswith("标题含") for t in top)
        if not title_again and all(item[1] != t[1] for t in top):
            top.append(item)
    zh = "；".join(e[1] for e in top[:3])
    en = "; ".join(e[2] for e in top[:3])
    return DocTypeGuess(best, texts(zh, en))


# An e-mail saved as text or printed: a block of header lines at the top.
_MAIL_HEADER = re.compile(
    r"^\s*(?P<h>发件人|收件人|抄送|主题|发送时间|发件时间|日期|from|to|cc|subject|sent|date)\s*[:：]",
    re.IGNORECASE | re.MULTILINE,
)
_MAIL_GROUPS = {"发件人": "from", "from": "from", "收件人": "to", "to": "to", "抄送": "cc", "cc": "cc",
                "主题": "subject", "subject": "subject", "发送时间": "date", "发件时间": "date", "日期": "date",
                "sent": "date", "date": "date"}  # fmt: skip


def _mail_headers(text: str, scores: dict[str, int], evidence: dict[str, list[tuple[int, str, str]]]) -> None:
    """From/To/Subject header lines among the first lines make a text an e-mail."""
    head = "\n".join(text.splitlines()[:10])
    groups = {_MAIL_GROUPS[m.group("h").lower()] for m in _MAIL_HEADER.finditer(head)}
    if "from" in groups and len(groups) >= 3:
        _add(scores, evidence, "email", 10, "开头为邮件头（发件人/收件人/主题）", "mail headers at the top")


def _entity_cues(
    entities: Iterable[Entity], scores: dict[str, int], evidence: dict[str, list[tuple[int, str, str]]]
) -> None:
    """Entities that only one kind of document carries (an invoice number, a quote number …)."""
    kinds = {e.kind for e in entities}
    if "invoice_code" in kinds and "invoice_no" in kinds:
        _add(scores, evidence, "invoice", 2, "含发票代码与号码", "invoice code and number")
    if "quote_no" in kinds:
        _add(scores, evidence, "quote", 1, "含报价单号", "quotation number")
    if "order_no" in kinds:
        _add(scores, evidence, "order", 1, "含订单号", "order number")
    if "contract_no" in kinds:
        _add(scores, evidence, "contract", 1, "含合同编号", "contract number")

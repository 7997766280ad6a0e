"""Labels of stored codes and words in the reader's language: entity roles, document languages.

Entity roles are the labels a document itself put before a value (``甲方``, ``联系电话``, ``合同总金额（含税）``):
an open vocabulary in the document's language. The English pages translate the common ones (a table, then
keywords for the many variants: anything ending in 电话 is a phone) and keep the rare rest as the document
wrote it (marked ``lang="zh"``, it is a quotation). Chinese pages show them as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask
from markupsafe import Markup, escape

from webui.i18n import get_language, gettext

#: Whole labels and their English names.
ROLE_EN = {
    "甲方": "Party A",
    "乙方": "Party B",
    "丙方": "Party C",
    "买方": "buyer",
    "卖方": "seller",
    "购买方": "buyer",
    "销售方": "seller",
    "购方": "buyer",
    "销方": "seller",
    "需方": "buyer",
    "供方": "supplier",
    "供货方": "supplier",
    "供应商": "supplier",
    "采购方": "purchaser",
    "买受人": "buyer",
    "出卖人": "seller",
    "发包人": "employer",
    "发包方": "employer",
    "承包人": "contractor",
    "承包方": "contractor",
    "出租人": "lessor",
    "出租方": "lessor",
    "承租人": "lessee",
    "承租方": "lessee",
    "委托方": "client",
    "委托人": "client",
    "受托方": "agent",
    "受托人": "agent",
    "服务方": "service provider",
    "客户": "customer",
    "客户名称": "customer name",
    "客户简称": "customer short name",
    "公司名称": "company name",
    "单位名称": "organisation",
    "名称": "name",
    "简称": "short name",
    "全称": "full name",
    "致": "to",
    "报价方": "quoting party",
    "询价方": "enquiring party",
    "法定代表人": "legal representative",
    "法人代表": "legal representative",
    "授权代表": "authorised representative",
    "委托代理人": "authorised agent",
    "签约代表": "signatory",
    "甲方代表": "Party A representative",
    "乙方代表": "Party B representative",
    "经办人": "handled by",
    "负责人": "person in charge",
    "项目经理": "project manager",
    "客户经理": "account manager",
    "销售经理": "sales manager",
    "销售代表": "sales representative",
    "业务员": "sales rep",
    "报价人": "quoted by",
    "制单人": "prepared by",
    "审核人": "reviewed by",
    "审批人": "approved by",
    "收款人": "payee",
    "开票人": "issued by",
    "收件人": "recipient",
    "发件人": "sender",
    "抄送": "cc",
    "主持人": "chair",
    "记录人": "minutes by",
    "姓名": "name",
    "开户行": "bank",
    "开户银行": "bank",
    "账号": "account number",
    "银行账号": "account number",
    "税号": "tax number",
    "大写": "amount in words",
    "小写": "amount in figures",
    "合计": "total",
    "总计": "total",
    "总价": "total price",
    "单价": "unit price",
    "金额": "amount",
    "税额": "tax",
    "价税合计": "total incl. tax",
    "定金": "deposit",
    "预付款": "advance payment",
    "尾款": "final payment",
    "日期": "date",
    "时间": "time",
    "地址": "address",
    "地点": "place",
    "邮编": "postcode",
    "电话": "phone",
    "手机": "mobile",
    "传真": "fax",
    "邮箱": "e-mail",
    "电子邮箱": "e-mail",
}

#: Keywords (in this order) that name what a longer label is about: 联系电话 → phone, 合同总金额（含税） → total.
ROLE_KEYWORDS = (
    ("电话", "phone"),
    ("手机", "mobile"),
    ("传真", "fax"),
    ("邮箱", "e-mail"),
    ("邮件", "e-mail"),
    ("联系人", "contact"),
    ("代表", "representative"),
    ("负责", "person in charge"),
    ("日期", "date"),
    ("时间", "time"),
    ("期限", "term"),
    ("地址", "address"),
    ("地点", "place"),
    ("总金额", "total"),
    ("总价", "total price"),
    ("合计", "total"),
    ("总计", "total"),
    ("单价", "unit price"),
    ("金额", "amount"),
    ("价格", "price"),
    ("费用", "fee"),
    ("款", "payment"),
    ("编号", "number"),
    ("号码", "number"),
    ("单号", "number"),
    ("名称", "name"),
    ("单位", "organisation"),
    ("公司", "company"),
)

_TAX_NOTE = re.compile(r"[（(]\s*含税\s*[）)]")
_CJK = re.compile(r"[\u3400-\u9fff]")


def role_in_english(role: str) -> str | None:
    """The English name of an entity role label, or None when it has none (a rare label: quote it)."""
    text = role.strip()
    if not _CJK.search(text):
        return text  # written in English (or codes) already
    incl_tax = bool(_TAX_NOTE.search(text))
    core = _TAX_NOTE.sub("", text).strip()
    name = ROLE_EN.get(core)
    if name is None:
        name = next((english for word, english in ROLE_KEYWORDS if word in core), None)
    if name is None:
        return None
    return f"{name} (incl. tax)" if incl_tax else name


def role_labels(roles: Iterable[str]) -> Markup:
    """Entity roles for the page: as written (、-joined) in Chinese; in English translated, each once, the rare
    untranslated rest kept as the document's own words (``lang="zh"``)."""
    roles = [r for r in roles if r and r.strip()]
    if get_language() != "en":
        return Markup(escape("、".join(roles)))
    shown: list[Markup] = []
    seen: set[str] = set()
    for role in roles:
        english = role_in_english(role)
        key = english or role
        if key in seen:
            continue
        seen.add(key)
        shown.append(
            escape(english) if english is not None else Markup('<span lang="zh">{}</span>').format(role)
        )
    return Markup(", ").join(shown)


def language_label(code: str | None) -> str:
    """A document's language code (zh, en, mixed) as the reader says it: 中文 / Chinese, 中英混合 / Mixed."""
    if not code:
        return "—"
    if code == "zh":
        return gettext("doc.language.zh")
    if code == "en":
        return gettext("doc.language.en")
    if code == "mixed":
        return gettext("doc.language.mixed")
    return code


def customer_type_label(value: str | None) -> str:
    """A registry customer type (潜在客户, 现有客户, 流失客户) in the reader's language; other values as stored."""
    if value == "潜在客户":
        return gettext("customers.type.prospect")
    if value == "现有客户":
        return gettext("customers.type.current")
    if value == "流失客户":
        return gettext("customers.type.lost")
    return value or ""


def join_list(items: Iterable[str] | None) -> str:
    """Names as a list in the reader's language: 甲、乙 in Chinese, "a, b" in English."""
    return ("、" if get_language() == "zh" else ", ").join(str(i) for i in items or () if i)


def colon() -> str:
    """The colon after a label: ``：`` in Chinese, ``: `` in English."""
    return "：" if get_language() == "zh" else ": "


def init_app(app: Flask) -> None:
    """Make the label helpers (``role_labels()``, ``language_label()``, ``customer_type_label()``, ``join_list()``,
    ``colon()``) available to templates."""
    app.jinja_env.globals.update(
        role_labels=role_labels,
        language_label=language_label,
        customer_type_label=customer_type_label,
        join_list=join_list,
        colon=colon,
    )

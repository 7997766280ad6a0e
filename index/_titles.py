"""Display titles: a hit's own title when it identifies the document, else "type · customer · number · date".

Many documents call themselves only by their kind (采购合同, 报价单, Invoice) or keep a
scanner's or a template's default name (``scan_0012``, ``新建 Microsoft Word 文档``); a
result list of them reads the same line after line.  For such a title the index hands out
the parts that do identify the entry (:func:`title_parts`: its type, first customer, its
contract/quote/invoice/order number, its date), and :func:`display_title` joins them with
the type's label in the reader's language.  The stored title is never changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from foundation.variants import fold_variants

__all__ = ["NUMBER_KINDS", "display_title", "is_generic_title", "title_parts"]

#: Entity kinds that number a document, in the order a title takes them (the document type's own first).
NUMBER_KINDS = ("contract_no", "quote_no", "invoice_no", "order_no")
_TYPE_NUMBER = {"contract": "contract_no", "quote": "quote_no", "invoice": "invoice_no", "order": "order_no"}
_SEPARATOR = " · "

_QUALIFIERS = (
    "产品|商品|设备|物资|材料|采购|销售|购销|产品购销|商品购销|设备采购|服务|技术服务|技术|框架|租赁|工程|施工|"
    "维保|维护|维修|软件|软件许可|代理|经销|加工|运输|物流|仓储|咨询|合作|战略合作|劳务|外包|供货|买卖"
)
_GENERIC_ZH = re.compile(
    rf"(?:(?:{_QUALIFIERS})*(?:合同|协议|合同书|协议书|订货合同|补充协议)"
    r"|(?:产品|销售|采购|项目)?(?:报价单|报价|报价表|报价函|询价单)"
    r"|(?:增值税)?(?:专用|普通|电子普通|电子专用|电子)?发票|收据|对账单|结算单"
    r"|(?:采购|销售|客户)?(?:订单|订货单|送货单|发货单)"
    r"|会议纪要|会议记录|纪要|拜访记录|拜访报告|邮件|方案|解决方案|项目方案|客户档案|文档|文件|附件)"
)
_GENERIC_EN = re.compile(
    r"(?:(?:sales|purchase|service|supply|framework|master)?contract|(?:sales|purchase|service)?agreement"
    r"|(?:commercial|tax|vat|proforma)?invoice|(?:price)?quot(?:e|ation)|(?:purchase|sales)?order|po"
    r"|meetingnotes|minutes|visitreport|proposal|email|document|file|attachment|untitled)"
)
# A default name: a scanner's, a camera's, an office template's, or digits and dates alone.
_DEFAULT_NAME = re.compile(
    r"(?:scan|scanned|img|image|dsc|dscn|photo|pic|doc|document|file|new|untitled|扫描件?|扫描文件|未命名|图片|照片"
    r"|新建(?:microsoft)?(?:word|excel|powerpoint|office)?(?:文档|工作表|演示文稿)?|微信图片|截图|屏幕截图)?"
    r"[\d_\-.]*"
)
_EXTENSION = re.compile(r"\.[a-z0-9]{1,5}$")
_COPY = re.compile(r"(?:[(（]\d+[)）]|-?副本|copy|复制|最终版|终稿|定稿|修订版|v\d+)+$")
_NOISE = re.compile(r"[\s\W_]+")


def _core(title: str) -> str:
    """The title without file extension, copy marks, whitespace or punctuation, case-folded, simplified."""
    core = fold_variants(unicodedata.normalize("NFKC", title)).strip().lower()  # 報價單 is 报价单
    core = _EXTENSION.sub("", core)
    core = re.sub(r"\s+", "", core)
    previous = None
    while previous != core:
        previous = core
        core = _COPY.sub("", core.rstrip("-_."))
    return _NOISE.sub("", core)


def is_generic_title(title: str) -> bool:
    """True when ``title`` says only what kind of document it is, or is a default file name."""
    core = _core(title)
    if not core:
        return True
    return bool(_GENERIC_ZH.fullmatch(core) or _GENERIC_EN.fullmatch(core) or _DEFAULT_NAME.fullmatch(core))


def title_parts(
    title: str,
    doc_type: str,
    customers: Sequence[str],
    numbers: Iterable[tuple[str, str]],
    date: str | None,
) -> tuple[tuple[str, str], ...]:
    """What identifies an entry whose title is generic: (part, value) pairs, empty when the title will do.

    Parts: ``type`` (the doc_type code), ``customer`` (the first linked customer), ``number``
    (the type's own number kind first, else the first of :data:`NUMBER_KINDS`), ``date`` (ISO).
    Empty too when nothing but the type would be shown (the title says as much).
    """
    if not is_generic_title(title):
        return ()
    by_kind: dict[str, str] = {}
    for kind, value in numbers:
        if kind in NUMBER_KINDS and value and kind not in by_kind:
            by_kind[kind] = value
    own = _TYPE_NUMBER.get(doc_type)
    number = by_kind.get(own, "") if own else ""
    if not number:
        number = next((by_kind[k] for k in NUMBER_KINDS if k in by_kind), "")
    customer = next((c for c in customers if c), "")
    rest = [("customer", customer), ("number", number), ("date", date or "")]
    if not any(value for _, value in rest):
        return ()
    return (("type", doc_type or "other"), *((k, v) for k, v in rest if v))


def display_title(title: str, parts: Iterable[tuple[str, str]] | dict[str, str], lang: str = "zh") -> str:
    """The title to show: ``title`` itself, or "type · customer · number · date" from its parts.

    The type's label follows ``lang`` (``zh`` or ``en``); a type without a label of its own
    (``other``) shows the stored title in its place.
    """
    found = dict(parts.items() if isinstance(parts, dict) else parts)
    if not found:
        return title
    from ingest import DOC_TYPES  # the type labels live with the typing (ingest loads lazily)

    code = found.get("type", "")
    labels = DOC_TYPES.get(code) if code and code != "other" else None
    label = (labels[1] if lang == "en" else labels[0]) if labels else title.strip()
    shown = [label, *(found.get(k, "") for k in ("customer", "number", "date"))]
    return _SEPARATOR.join(v for v in shown if v)

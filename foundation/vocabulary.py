"""Words every layer shares about customers: the registry's customer types and the forms people type for them;
and the words people type for each document type (:data:`DOC_TYPE_WORDS`).

One owner: the registry stores the full names (``潜在客户`` …), the importer and the CLI accept
the short and English forms, the search folds a query's ``customer_type:潜在`` to the full name,
and the web's selects list them — all from :data:`CUSTOMER_TYPES`.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CUSTOMER_TYPES",
    "CUSTOMER_TYPE_NAMES",
    "DOC_TYPE_WORDS",
    "IMPORTANCE_LEVELS",
    "MAX_STAGE_CHARS",
    "customer_type_name",
    "importance_level",
]

#: Customer types as the registry writes them, each with the short and English forms people use.
CUSTOMER_TYPES: dict[str, tuple[str, ...]] = {
    "潜在客户": ("潜在", "prospect", "potential", "lead"),
    "现有客户": ("现有", "existing", "current", "active"),
    "流失客户": ("流失", "lost", "churned", "former", "inactive"),
}
#: The registry's names, in order (prospect, current, lost).
CUSTOMER_TYPE_NAMES = tuple(CUSTOMER_TYPES)

_WS = re.compile(r"\s+")


def customer_type_name(value: str) -> str | None:
    """``潜在客户``/``现有客户``/``流失客户`` for a full, short or English form (any case, width or spacing); else None."""
    folded = _WS.sub("", unicodedata.normalize("NFKC", value)).lower()
    for name, forms in CUSTOMER_TYPES.items():
        if folded == name or folded in forms:
            return name
    return None


#: A customer's importance (重要程度): A most, C least.
IMPORTANCE_LEVELS = ("A", "B", "C")
#: A sales stage (销售阶段) is the registry's free text, this long at most.
MAX_STAGE_CHARS = 32


def importance_level(value: str) -> str | None:
    """``A``/``B``/``C`` for ``a``, ``Ａ``, `` b `` (any case, width or spacing); None for anything else."""
    folded = _WS.sub("", unicodedata.normalize("NFKC", value)).upper()
    return folded if folded in IMPORTANCE_LEVELS else None


#: What people type in a search box to name each document type (lower case): its code, its Chinese and
#: English labels (``ingest.DOC_TYPES``) and the other words the classifier reads as that type's title
#: (``ingest.facts._doctype``).  A query naming one ranks that type's documents first (``index._relevance``).
DOC_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "contract": ("contract", "合同", "协议", "协议书", "合约", "contracts", "agreement", "agreements"),
    "quote": ("quote", "报价单", "报价", "报价书", "报价函", "quotes", "quotation", "quotations"),
    "invoice": ("invoice", "发票", "增值税发票", "电子发票", "invoices", "fapiao"),
    "meeting": ("meeting", "会议纪要", "会议记录", "纪要", "meeting notes", "meeting minutes", "minutes"),
    "visit": ("visit", "拜访记录", "拜访报告", "拜访", "回访记录", "visit report", "call report"),
    "email": ("email", "邮件", "电子邮件", "e-mail", "emails", "mail"),
    "order": ("order", "订单", "销售订单", "采购订单", "orders", "purchase order", "sales order"),
    "proposal": ("proposal", "方案", "解决方案", "技术方案", "建议书", "proposals", "solution"),
    "profile": ("profile", "客户档案", "客户资料", "客户信息表", "customer profile"),
}

"""Words every layer shares about customers: the registry's customer types and the forms people type for them.

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

"""Words every layer shares about customers: the registry's customer types and the forms people type for them.

One owner: the registry stores the full names (``潜在客户`` …), the importer and the CLI accept
the short and English forms, the search folds a query's ``customer_type:潜在`` to the full name,
and the web's selects list them — all from :data:`CUSTOMER_TYPES`.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CUSTOMER_TYPES", "CUSTOMER_TYPE_NAMES", "customer_type_name"]

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

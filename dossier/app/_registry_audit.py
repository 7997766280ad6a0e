"""The audit details of registry changes: before/after of changed fields, bounded in size.

Registry values are user-controlled and some are long (contacts, notes), so every value an
event stores is cut to :data:`MAX_VALUE` characters of its JSON, and an import lists at most
:data:`MAX_CUSTOMERS` customers (the counts are always complete).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Longest value (its JSON text) an event keeps per field; longer ones end in "…".
MAX_VALUE = 300
#: Most customers (or merged suggestions) one import event lists.
MAX_CUSTOMERS = 100


def bounded(value: Any) -> Any:
    """``value`` as an event stores it: as it is when short, else its JSON text cut to MAX_VALUE."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= MAX_VALUE:
        return value
    return text[: MAX_VALUE - 1] + "…"


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` of the fields whose value differs (each value bounded)."""
    return {
        key: [bounded(before.get(key)), bounded(after.get(key))]
        for key in after
        if before.get(key) != after.get(key)
    }


def capped(items: list[Any], limit: int = MAX_CUSTOMERS) -> dict[str, Any]:
    """``{"items": the first ``limit``, "more": how many were left out}``."""
    return {"items": items[:limit], "more": max(0, len(items) - limit)}

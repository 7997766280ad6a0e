"""The customer fields of an index entry: one builder for documents, versions and activities alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from records import Customer

__all__ = ["customer_fields"]


def customer_fields(customers: Sequence[Customer]) -> dict[str, Any]:
    """:class:`index.IndexDocument` keyword arguments that come from ``customers`` (the primary first).

    Names, ids, every name and alias, customer types, industries, regions, sales stages,
    importance grades and customer tags, each without repeats in the customers' order.
    """
    return {
        "customers": tuple(c.name for c in customers),
        "customer_ids": tuple(c.id for c in customers),
        "customer_aliases": tuple(dict.fromkeys(n for c in customers for n in c.names)),
        "customer_types": tuple(dict.fromkeys(c.customer_type for c in customers if c.customer_type)),
        "industries": tuple(dict.fromkeys(c.industry for c in customers if c.industry)),
        "regions": tuple(dict.fromkeys(c.region for c in customers if c.region)),
        "customer_stages": tuple(dict.fromkeys(c.stage for c in customers if c.stage)),
        "customer_importance": tuple(dict.fromkeys(c.importance for c in customers if c.importance)),
        "customer_tags": tuple(dict.fromkeys(t for c in customers for t in (c.tags or []) if t)),
    }

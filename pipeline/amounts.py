"""A document's amount (``documents.amount``): the figure the charts and the customer page take as its total.

The rule: of the document's ``amount`` entities, its total — one whose role names it (总, 合计,
total) — else its largest; with several totals the largest of them.  Values that are no number, or
that :class:`records.Document`'s ``Numeric(20, 2)`` column cannot hold (10¹⁸ and more), are no
amount.  The extraction step stores it whenever it (re)writes the document's entities, so every
path that does — intake, re-extraction, a version's restore, an OCR pass — keeps it right; the
figure does not depend on the document's customers, so a customer merge leaves it as it is.
Migration 0015 back-fills older homes with the same rule in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol

__all__ = ["AMOUNT_LIMIT", "TOTAL_ROLE_MARKS", "document_amount", "is_total_role"]

#: What a role contains when its amount is the document's total (compared lower-cased).
TOTAL_ROLE_MARKS = ("总", "合计", "total")
#: The stored column's bound (``Numeric(20, 2)``): amounts at or above it are not kept.
AMOUNT_LIMIT = Decimal(10) ** 18
_CENT = Decimal("0.01")


class _AmountEntity(Protocol):
    kind: str
    value: str
    role: str | None


def is_total_role(role: str | None) -> bool:
    """Whether an amount with this role is a total (总, 合计, total)."""
    lowered = (role or "").lower()
    return any(mark in lowered for mark in TOTAL_ROLE_MARKS)


def _number(value: str) -> Decimal | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return amount if amount.is_finite() and abs(amount) < AMOUNT_LIMIT else None


def document_amount(entities: Iterable[_AmountEntity]) -> Decimal | None:
    """The document's amount from its entities (rows or found entities): its total, else its largest; ``None`` without one."""
    best: tuple[bool, Decimal] | None = None
    for entity in entities:
        if entity.kind != "amount":
            continue
        amount = _number(entity.value)
        if amount is None:
            continue
        candidate = (is_total_role(entity.role), amount)
        if best is None or candidate > best:
            best = candidate
    return None if best is None else best[1].quantize(_CENT, rounding=ROUND_HALF_UP)

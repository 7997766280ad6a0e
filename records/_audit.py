"""Writing the audit trail: one row per act, in the caller's transaction (append-only; see migration 0008)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from records._models import AuditEvent

__all__ = ["record_event"]


def record_event(
    session: Session,
    username: str,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to ``session`` (the caller commits, so the event joins its transaction).

    ``detail`` is stored as JSON: values JSON cannot hold (dates, decimals, tuples) are
    written as their text or lists.
    """
    clean = json.loads(json.dumps(dict(detail or {}), ensure_ascii=False, default=str))
    event = AuditEvent(
        username=username[:64], action=action[:32], target_type=target_type, target_id=target_id, detail=clean
    )
    session.add(event)
    return event

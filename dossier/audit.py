"""The audit trail: one append-only :class:`records.AuditEvent` per act worth answering for.

Exports write one event each (issue 6); the audit viewer (issue 7) reads them.  An event
says who (``username``), when (``at``, UTC), what (``action``, e.g. ``export``), on what
(``target_type``/``target_id``, optional) and the particulars (``detail``, a JSON object).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from records import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["AuditService", "record_event"]


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


class AuditService:
    """Mixed into ``Dossier``, which provides ``sessions``."""

    sessions: sessionmaker[Session]

    def audit(
        self,
        username: str,
        action: str,
        *,
        target_type: str | None = None,
        target_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Write one audit event in its own transaction and return its id."""
        with self.sessions() as session:
            event = record_event(
                session, username, action, target_type=target_type, target_id=target_id, detail=detail
            )
            session.commit()
            return int(event.id)

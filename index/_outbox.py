"""The index outbox: index work for an external engine, written in the records' own transaction.

An external search engine cannot join a records transaction.  So a backend such as
OpenSearch does not send a document the moment it is handed one: it writes an
outbox row (the document, or a delete) with the caller's connection, and the row
commits or rolls back with the records.  After the commit the rows are *flushed*
(sent in bulk); a row leaves the outbox only once the engine has taken it.  While
the engine is down the rows stay, each retried later with a growing wait
(:func:`backoff_s`), so nothing the records hold is ever missing from the index
for long, and the backlog drains by itself once the engine answers again.

``seq`` grows forever (SQLite ``AUTOINCREMENT``, a PostgreSQL sequence), so it
doubles as the external version of the document in the engine: of two flushes
racing each other, the one with the older row loses.

``search_state`` holds small named values a backend keeps beside the records
(the index being rebuilt, how far the rebuild got).

Both tables are plain SQLAlchemy Core, so they live in SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from index._types import IndexDocument

__all__ = ["Outbox", "OutboxRow", "backoff_s", "document_from_json", "document_to_json"]

_META = sa.MetaData()

OUTBOX = sa.Table(
    "search_outbox",
    _META,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    # 64-bit: the entries of activities have ids at or below minus 10**12 (index.ACTIVITY_ID_BASE).
    sa.Column("doc_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("op", sa.String(8), nullable=False),  # index | delete
    sa.Column("payload", sa.Text, nullable=True),  # the IndexDocument as JSON (index only)
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_try", sa.Float, nullable=False, default=0.0),
    sa.Column("rejected", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text, nullable=True),
    sqlite_autoincrement=True,
)

STATE = sa.Table(
    "search_state",
    _META,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: Longest wait between two tries of the same row, in seconds.
MAX_BACKOFF_S = 300.0


def backoff_s(attempts: int) -> float:
    """Seconds to wait before try number ``attempts + 1``: 1, 2, 4 … up to five minutes."""
    return float(min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1)))


#: The fields of an index document, in their declared order (all plain values and tuples of them).
_FIELDS = tuple(f.name for f in dataclasses.fields(IndexDocument))


def document_to_json(doc: IndexDocument, **blank: str) -> str:
    """An index document as one JSON text (what an outbox row carries); ``blank`` replaces some fields' values.

    The same text as ``json.dumps(dataclasses.asdict(doc))`` without its deep copy (the fields hold only
    strings, numbers and tuples of them), about 10x faster.
    """
    values = {name: getattr(doc, name) for name in _FIELDS}
    values.update(blank)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def document_from_json(text: str) -> IndexDocument:
    """The index document an outbox row carries; lists come back as the tuples the dataclass declares."""
    raw: dict[str, Any] = json.loads(text)
    fields = {f.name for f in dataclasses.fields(IndexDocument)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            continue
        if key == "entities":
            value = tuple((str(k), str(v)) for k, v in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[key] = value
    return IndexDocument(**values)


@dataclass(frozen=True)
class OutboxRow:
    """One piece of index work: the newest row of a document that is due."""

    seq: int
    doc_id: int
    op: str
    payload: str | None
    attempts: int


class Outbox:
    """The outbox and state tables in the records database of ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self) -> None:
        """Create both tables if they do not exist (idempotent); widen an older outbox's ``doc_id`` to 64 bits."""
        _META.create_all(self._engine, checkfirst=True)
        if self._engine.dialect.name == "postgresql":  # SQLite's INTEGER is 64-bit already
            with self._engine.begin() as conn:
                kind = conn.execute(
                    sa.text(
                        "SELECT data_type FROM information_schema.columns"
                        " WHERE table_name = 'search_outbox' AND column_name = 'doc_id'"
                        " AND table_schema = current_schema()"
                    )
                ).scalar()
                if kind == "integer":
                    conn.execute(sa.text("ALTER TABLE search_outbox ALTER COLUMN doc_id TYPE BIGINT"))

    # -- writing (inside the caller's transaction) ----------------------------------------------

    def put_documents(self, conn: Connection, docs: Sequence[IndexDocument]) -> None:
        """Queue documents to be (re)indexed."""
        if docs:
            conn.execute(
                OUTBOX.insert(),
                [
                    {
                        "doc_id": d.id,
                        "op": "index",
                        "payload": document_to_json(d),
                        "attempts": 0,
                        "next_try": 0.0,
                        "rejected": False,
                    }
                    for d in docs
                ],
            )

    def put_deletes(self, conn: Connection, ids: Iterable[int]) -> None:
        """Queue documents to be removed."""
        rows = [
            {
                "doc_id": int(i),
                "op": "delete",
                "payload": None,
                "attempts": 0,
                "next_try": 0.0,
                "rejected": False,
            }
            for i in dict.fromkeys(ids)
        ]
        if rows:
            conn.execute(OUTBOX.insert(), rows)

    def drop_documents(self, conn: Connection, ids: Sequence[int]) -> None:
        """Forget the queued (not yet sent) entries of ``ids``: an erased document's text leaves the outbox."""
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            conn.execute(OUTBOX.delete().where(OUTBOX.c.op == "index", OUTBOX.c.doc_id.in_(chunk)))

    # -- flushing -------------------------------------------------------------------------------

    def due(self, limit: int, now: float | None = None) -> list[OutboxRow]:
        """The newest due row of each document among the oldest ``limit`` due rows, oldest first."""
        now = time.time() if now is None else now
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(OUTBOX.c.seq, OUTBOX.c.doc_id, OUTBOX.c.op, OUTBOX.c.payload, OUTBOX.c.attempts)
                .where(OUTBOX.c.rejected.is_(False), OUTBOX.c.next_try <= now)
                .order_by(OUTBOX.c.seq)
                .limit(limit)
            ).all()
        newest: dict[int, OutboxRow] = {}
        for seq, doc_id, op, payload, attempts in rows:
            newest[int(doc_id)] = OutboxRow(int(seq), int(doc_id), str(op), payload, int(attempts))
        return sorted(newest.values(), key=lambda r: r.seq)

    def done(self, rows: Iterable[OutboxRow]) -> None:
        """Forget the work of ``rows`` and every older row of the same documents."""
        pairs = [{"d": r.doc_id, "s": r.seq} for r in rows]
        if pairs:
            with self._engine.begin() as conn:
                conn.execute(
                    OUTBOX.delete().where(
                        OUTBOX.c.doc_id == sa.bindparam("d"), OUTBOX.c.seq <= sa.bindparam("s")
                    ),
                    pairs,
                )

    def retry_later(self, rows: Iterable[OutboxRow], error: str, now: float | None = None) -> None:
        """Count a failed try of ``rows`` and set when each may be tried again."""
        now = time.time() if now is None else now
        params = [
            {"q": r.seq, "a": r.attempts + 1, "t": now + backoff_s(r.attempts + 1), "e": error[:500]}
            for r in rows
        ]
        if params:
            with self._engine.begin() as conn:
                conn.execute(
                    OUTBOX.update()
                    .where(OUTBOX.c.seq == sa.bindparam("q"))
                    .values(attempts=sa.bindparam("a"), next_try=sa.bindparam("t"), error=sa.bindparam("e")),
                    params,
                )

    def reject(self, rejected: Iterable[tuple[OutboxRow, str]]) -> None:
        """Mark rows the engine refused for good (never tried again until the document is queued anew)."""
        params = [{"d": r.doc_id, "s": r.seq, "e": reason[:500]} for r, reason in rejected]
        if params:
            with self._engine.begin() as conn:
                conn.execute(
                    OUTBOX.update()
                    .where(OUTBOX.c.doc_id == sa.bindparam("d"), OUTBOX.c.seq <= sa.bindparam("s"))
                    .values(rejected=True, error=sa.bindparam("e")),
                    params,
                )

    # -- reading --------------------------------------------------------------------------------

    def pending(self) -> int:
        """Rows waiting to be sent (rejected ones not counted)."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(OUTBOX).where(OUTBOX.c.rejected.is_(False))
                ).scalar_one()
            )

    def waiting(self) -> bool:
        """Whether any row waits to be sent (rejected ones not counted): :meth:`pending` in a quarter of the time
        (a search of the Tantivy index asks before each search)."""
        with self._engine.connect() as conn:
            return (
                conn.exec_driver_sql(f"SELECT 1 FROM {OUTBOX.name} WHERE NOT rejected LIMIT 1").first()
                is not None
            )

    def failures(self, limit: int = 100) -> list[tuple[int, str]]:
        """(document id, reason) of the newest rejected rows."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(OUTBOX.c.doc_id, OUTBOX.c.error)
                .where(OUTBOX.c.rejected.is_(True))
                .order_by(OUTBOX.c.seq.desc())
                .limit(limit)
            ).all()
        return [(int(d), str(e or "")) for d, e in rows]

    def last_error(self) -> str | None:
        """The reason the oldest waiting row is waiting, if it has been tried."""
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(OUTBOX.c.error)
                .where(OUTBOX.c.rejected.is_(False), OUTBOX.c.attempts > 0)
                .order_by(OUTBOX.c.seq)
                .limit(1)
            ).scalar()

    def clear(self) -> None:
        """Drop every row (the index is being emptied: nothing queued for it matters any more)."""
        with self._engine.begin() as conn:
            conn.execute(OUTBOX.delete())

    # -- state ----------------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        """A named value, or None."""
        with self._engine.connect() as conn:
            value = conn.execute(sa.select(STATE.c.value).where(STATE.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_state(self, key: str, value: str | None) -> None:
        """Set (or with None, remove) a named value."""
        with self._engine.begin() as conn:
            conn.execute(STATE.delete().where(STATE.c.key == key))
            if value is not None:
                conn.execute(STATE.insert().values(key=key, value=value))

"""The embedded index's search hot path: match sets and bm25 scores, memoised per snapshot.

A search asks FTS5 for the ids matching its expression (one pass, fetched as one string) and,
when it ranks by relevance, for the bm25 score of each.  Both are pure functions of the index
contents, so they are kept in the :class:`index._memo.Memo` of the columns snapshot the search
reads (a new snapshot, with an empty memo, follows every write): paging, refining by a facet,
another user asking the same — the FTS5 work is done once.  The permission filter and the
request's filters are applied to the match set on every search, never memoised.

Statements go straight to the driver's cursor (``sqlite3``), inside the caller's connection
and transaction: SQLAlchemy's result machinery costs more than these queries at this size.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection

from index._columns import Columns
from index._memo import HIT_UNITS, Memo
from index._types import SearchHit

__all__ = ["joined_ids", "match_positions", "memo_hits", "page_scores", "raw"]

#: Match sets up to this size get every match scored once (and memoised); bm25 costs ~1 µs a match.
#: Twice the ranking limit, so a query whose readable matches are ranked (at most 10,000) is mostly
#: scored whole even where the permission filter leaves half of its matches.
SCORE_ALL_LIMIT = 20_000


def raw(conn: Connection) -> sqlite3.Connection:
    """The ``sqlite3`` connection under ``conn`` (same transaction)."""
    return cast(sqlite3.Connection, conn.connection.driver_connection)


def joined_ids(joined: object) -> np.ndarray:
    """The ids of a ``group_concat(rowid)`` value (None or "" for none), in its order.

    Parsed by numpy in one pass: ten times faster than splitting the string into Python strings
    (12 against 118 ms for 926,000 ids), which is most of a common term's cost past the FTS5 walk.
    """
    if not joined:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(str(joined), dtype=np.int64, sep=",")


def _ids(conn: Connection, sql: str, args: tuple[Any, ...]) -> np.ndarray:
    return joined_ids(raw(conn).execute(sql, args).fetchone()[0])


def match_positions(conn: Connection, columns: Columns, expression: str) -> np.ndarray:
    """Positions (ascending) of every entry matching an FTS5 expression, memoised per snapshot."""
    key = ("match", expression)
    found: np.ndarray | None = columns.memo.get(key)
    if found is None:
        ids = _ids(conn, "SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH ?", (expression,))
        found = columns.positions_of(ids).astype(np.int32)  # int32: half the memory
        if len(found) > 1 and not bool((found[1:] > found[:-1]).all()):  # FTS5 walks in rowid order
            found = np.unique(found)
        found.setflags(write=False)
        columns.memo.put(key, found, len(found) + 1)
    return found


def _all_scores(
    conn: Connection, columns: Columns, positive: str, weights: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """(positions ascending, bm25) of every match of ``positive`` when there are few enough, else None."""
    key = ("bm25", positive, weights)
    found: tuple[np.ndarray, np.ndarray] | None = columns.memo.get(key)
    if found is not None:
        return found
    if len(match_positions(conn, columns, positive)) > SCORE_ALL_LIMIT:
        return None
    rows = (
        raw(conn)
        .execute(
            f"SELECT rowid, bm25(search_fts, {weights}) FROM search_fts WHERE search_fts MATCH ?", (positive,)
        )
        .fetchall()
    )
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    at = np.searchsorted(columns.ids, ids)
    held = at < len(columns.ids)  # ids the snapshot does not hold (written since it was taken) go
    held[held] = columns.ids[at[held]] == ids[held]
    at, scores = at[held], scores[held]
    order = np.argsort(at, kind="stable")
    found = (at[order].astype(np.int32), scores[order])
    for array in found:
        array.setflags(write=False)
    columns.memo.put(key, found, 3 * len(ids) + 1)
    return found


def page_scores(
    conn: Connection, columns: Columns, pos: np.ndarray, positive: str, weights: str
) -> np.ndarray:
    """bm25 of the matches at ``pos`` (0.0 for one FTS5 does not score) under the column ``weights``.

    Every match of ``positive`` is scored once per snapshot when there are at most
    :data:`SCORE_ALL_LIMIT`; otherwise only the (fewer) selected ones, each time.
    """
    every = _all_scores(conn, columns, positive, weights)
    if every is not None:
        at, scores = every
        if not len(at):
            return np.zeros(len(pos), dtype=np.float64)
        idx = np.minimum(np.searchsorted(at, pos), len(at) - 1)
        return np.where(at[idx] == pos, scores[idx], 0.0)
    ids = columns.ids[pos]
    key = ("bm25-of", positive, weights, hashlib.blake2b(ids.tobytes(), digest_size=16).digest())
    known: np.ndarray | None = columns.memo.get(key)
    if known is not None:
        return known
    # FTS5 walks its matches once and bm25 runs only for rows passing the IN test; the unary
    # + keeps the planner from handing the IN list to FTS5 as one MATCH lookup per id.
    rows = (
        raw(conn)
        .execute(
            f"SELECT rowid, bm25(search_fts, {weights}) FROM search_fts WHERE search_fts MATCH ?"
            " AND +rowid IN (SELECT value FROM json_each(?))",
            (positive, "[" + ",".join(map(str, ids.tolist())) + "]"),
        )
        .fetchall()
    )
    by_id: dict[int, float] = {int(r[0]): float(r[1]) for r in rows}
    found = np.array([by_id.get(int(i), 0.0) for i in ids], dtype=np.float64)
    found.setflags(write=False)
    columns.memo.put(key, found, 2 * len(found) + 1)
    return found


def memo_hits(
    memo: Memo,
    page: Sequence[tuple[int, float]],
    key: Hashable,
    compute: Callable[[Sequence[tuple[int, float]]], list[SearchHit]],
) -> list[SearchHit]:
    """The hits of ``page`` ((id, bm25) pairs): those already built for the same terms (``key``) in
    this snapshot are reused with this page's score, ``compute`` builds the others (and they are kept)."""
    found: dict[int, SearchHit] = {}
    for doc_id, _ in page:
        hit = memo.get(("hit", doc_id, key))
        if hit is not None:
            found[doc_id] = hit
    missing = [row for row in page if row[0] not in found]
    if missing:
        for hit in compute(missing):
            memo.put(("hit", hit.id, key), hit, HIT_UNITS)
            found[hit.id] = hit
    return [replace(found[doc_id], score=-float(score or 0.0)) for doc_id, score in page if doc_id in found]

"""In-memory columns of every indexed document, for filters, permissions, facets and sorting.

FTS5 finds the matching ids fast (a few ms even for 90,000 matches); what is slow in SQL
is joining every match to its row to filter, count facets and sort.  So each process keeps
the filter columns of ``search_doc`` in numpy arrays, one entry per document, and does
that work with vectorised masks and ``bincount`` over the *whole* match set — the
permission filter is applied before anything is counted, exactly as a WHERE clause.

The arrays follow the table through ``search_log``: every write appends the changed ids
in the same transaction, and each search first applies the entries it has not seen (or
reloads everything when the log was pruned past it).  Writes by other processes (a CLI
ingest while the web UI serves) are therefore visible to the next search.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection

from index._memo import Memo
from index._types import ACCESS_LEVELS

LIST_SEP = "\x1f"
#: The ``search_log`` entry that tells every process to reload everything (no entry has id 0:
#: documents count from 1, superseded versions' entries are negative).
RELOAD_ALL = 0
_NO_DATE = ""
#: ``search_doc`` columns holding LIST_SEP-joined sets of values, each kept as one set code per document.
SET_COLUMNS = (
    "customers",
    "customer_keys",
    "tags",
    "customer_types",
    "industries",
    "regions",
    "customer_stages",
    "customer_importance",
    "customer_tags",
    "file_format",
    "scan",
)
#: Facet name -> set column it counts.
SET_FACETS = {
    "customer": "customers",
    "tag": "tags",
    "customer_type": "customer_types",
    "industry": "industries",
    "region": "regions",
    "stage": "customer_stages",
    "importance": "customer_importance",
    "ctag": "customer_tags",
    "format": "file_format",
    "scan": "scan",
}
_ROW_SQL = (
    "SELECT id, doc_type, confidentiality, date, created_at, "
    + ", ".join(SET_COLUMNS)
    + ", lifecycle FROM search_doc"
)
#: Lifecycle states an entry may have, by their code in the ``lifecycle`` array ('' reads as active).
LIFECYCLES = ("active", "archived")


class _Codes:
    """Dictionary encoding of a string column: value <-> small int (a set column also keeps its members)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.members: list[tuple[str, ...]] = []
        self._index: dict[str, int] = {}

    def code(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
            self.members.append(tuple(v for v in value.split(LIST_SEP) if v))
        return found


def _all_rows(conn: Connection) -> Sequence[Any]:
    """Every row of ``search_doc`` in id order, read through the driver's cursor, in the caller's
    transaction (SQLAlchemy's row objects cost a quarter more at 100,000 rows)."""
    driver: Any = conn.connection.driver_connection
    return cast(Sequence[Any], driver.execute(_ROW_SQL + " ORDER BY id").fetchall())


class DocColumns:
    """Tracks ``search_doc`` for one process; :meth:`refresh` returns a current :class:`Columns`.

    A refresh builds a new snapshot and swaps it in, so a search running in another
    thread keeps reading the consistent snapshot it started with.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = -1  # last search_log entry applied; -1 = never loaded
        # Append-only dictionaries shared by every snapshot (old codes never change meaning).
        self._codes = {"doc_type": _Codes(), **{name: _Codes() for name in SET_COLUMNS}}
        self._snap = Columns(self._codes)

    def refresh(self, conn: Connection) -> Columns:
        """The columns as of now (cheap when nothing changed since the last call)."""
        with self._lock:
            # Two subqueries: SQLite answers a lone min() or max() from the key, both together by a scan.
            last = conn.exec_driver_sql(
                "SELECT coalesce((SELECT max(seq) FROM search_log), 0), coalesce((SELECT min(seq) FROM search_log), 0)"
            ).one()
            newest, oldest = int(last[0]), int(last[1])
            if newest == self._seq:
                return self._snap
            if self._seq < 0 or oldest > self._seq + 1 or newest < self._seq:
                rows = _all_rows(conn)
                self._snap = Columns(self._codes, rows=rows)
            else:
                changed = [
                    int(r[0])
                    for r in conn.exec_driver_sql(
                        "SELECT DISTINCT doc_id FROM search_log WHERE seq > ?", (self._seq,)
                    )
                ]
                if RELOAD_ALL in changed:  # clear() or a rebuild
                    rows = _all_rows(conn)
                    self._snap = Columns(self._codes, rows=rows)
                else:
                    self._snap = self._snap.updated(conn, changed)
            self._seq = newest
            return self._snap


class Columns:
    """One consistent snapshot of the filter/sort/facet columns, one entry per document, by id."""

    def __init__(
        self,
        codes: dict[str, _Codes],
        rows: Sequence[Any] = (),
        base: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.codes = codes
        self.memo = Memo()  # what searches worked out from this snapshot (index._memo)
        self._year_codes: tuple[np.ndarray, np.ndarray] | None = None
        self._ranks: dict[str, np.ndarray] = {}
        self._used: dict[str, frozenset[str]] = {}
        self._set_rows(rows, base)

    def updated(self, conn: Connection, changed: Sequence[int]) -> Columns:
        """A new snapshot with the rows of ``changed`` ids re-read (gone ids dropped)."""
        fresh: list[Any] = []
        for start in range(0, len(changed), 500):
            chunk = tuple(changed[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            fresh.extend(conn.exec_driver_sql(f"{_ROW_SQL} WHERE id IN ({marks})", chunk).all())
        keep = ~np.isin(self.ids, np.asarray(changed, dtype=np.int64))
        base = self._columns()
        if not keep.all():  # rows changed or gone (new documents only: nothing to take out)
            base = {k: v[keep] for k, v in base.items()}
        return Columns(self.codes, rows=fresh, base=base)

    def _columns(self) -> dict[str, np.ndarray]:
        return {
            "ids": self.ids,
            "doc_type": self.doc_type,
            "level": self.level,
            "date": self.date,
            "created": self.created,
            "lifecycle": self.lifecycle,
            **self.sets,
        }

    def _set_rows(self, rows: Sequence[Any], base: dict[str, np.ndarray] | None = None) -> None:
        levels = {name: i for i, name in enumerate(ACCESS_LEVELS)}
        strictest = len(ACCESS_LEVELS) - 1  # a level this version does not know reads as the strictest
        n = len(rows)
        doc_types = self.codes["doc_type"]
        new: dict[str, np.ndarray] = {
            "ids": np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
            "doc_type": np.fromiter((doc_types.code(r[1]) for r in rows), dtype=np.int32, count=n),
            "level": np.fromiter((levels.get(r[2], strictest) for r in rows), dtype=np.int8, count=n),
            "date": np.array([r[3] or _NO_DATE for r in rows], dtype="U10"),
            # As UTF-8 bytes: sorting reads them as 64-bit words (:func:`_words`), several times faster.
            "created": np.array([(r[4] or "").encode() for r in rows], dtype="S32"),
        }
        for i, name in enumerate(SET_COLUMNS, start=5):
            codes = self.codes[name]
            new[name] = np.fromiter((codes.code(r[i] or "") for r in rows), dtype=np.int32, count=n)
        at = 5 + len(SET_COLUMNS)
        new["lifecycle"] = np.fromiter((r[at] == "archived" for r in rows), dtype=np.int8, count=n)
        order = np.argsort(new["ids"], kind="stable")
        new = {k: v[order] for k, v in new.items()}
        if base is not None:
            # ``base`` is in id order and holds none of these ids: each fresh row goes in where its id
            # sorts (copying each column once, rather than sorting a million ids after every write).
            where = np.searchsorted(base["ids"], new["ids"])
            new = {k: np.insert(base[k], where, new[k].astype(base[k].dtype)) for k in new}
        self.ids = new["ids"]
        self.doc_type = new["doc_type"]
        self.level = new["level"]
        self.date = new["date"]
        self.created = new["created"]
        self.lifecycle = new["lifecycle"]
        self.sets = {name: new[name] for name in SET_COLUMNS}

    def rank(self, key: str) -> np.ndarray:
        """Rank of every document for a sort key (0 = first): ``recent`` or ``date_desc``/``date_asc``.

        ``recent``: newest intake first, then the higher id; ``date_desc``: documents with a date
        first, newest date first, then as ``recent``; ``date_asc``: dated first, oldest first, then
        the oldest intake and the lower id.  A descending order is the ascending one reversed (ids
        are unique, so no two documents tie), and the strings are compared as 64-bit words: each
        sort key costs one integer sort, recomputed with every new snapshot (every write).
        """
        found = self._ranks.get(key)
        if found is None:
            if key == "recent":
                order = np.lexsort((self.ids, *_words(self.created)))[::-1]
            else:  # the date orders break ties as ``recent`` does (or its reverse): its rank is one key
                order = self._date_order(ascending=key == "date_asc")
            found = np.empty(len(order), dtype=np.int64)
            found[order] = np.arange(len(order))
            self._ranks[key] = found
        return found

    def _date_order(self, *, ascending: bool) -> np.ndarray:
        """Dated documents first, by date (newest or oldest first), ties as ``recent`` (or reversed).

        An ISO date is 10 bytes: its first 8 are one word and its last 2 the top of a second, whose
        low 48 bits carry the ``recent`` rank — two integer sorts instead of four.  Dates of more
        bytes (not ISO) are sorted word by word.
        """
        then = self.rank("recent")
        dates = _utf8(self.date)
        words = _words(dates)
        order: np.ndarray
        if dates.dtype.itemsize > 10 or len(self.ids) >= 1 << 48:
            if ascending:
                order = np.lexsort((-then, *words, self.date == _NO_DATE))
            else:
                order = np.lexsort((-then, *words, self.date != _NO_DATE))[::-1]
            return order
        first = words[-1] if words else np.zeros(len(self.ids), dtype=np.uint64)
        top = words[0] if len(words) == 2 else np.zeros(len(self.ids), dtype=np.uint64)
        # Among equal dates the key must grow against ``recent`` (reversed, descending is ``recent``).
        ties = np.uint64(len(then)) - then.astype(np.uint64)
        if ascending:  # undated last: no date's first word is all 0xFF bytes
            first = np.where(first == 0, np.uint64(2**64 - 1), first)
            order = np.lexsort((top | ties, first))
        else:  # undated (0) sorts last by itself once reversed
            order = np.lexsort((top | ties, first))[::-1]
        return order

    # -- selecting ---------------------------------------------------------------------------

    def positions_of(self, ids: np.ndarray) -> np.ndarray:
        """Positions of the given document ids (ids the columns do not hold are dropped)."""
        if len(self.ids) == 0 or len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids)
        inside = pos < len(self.ids)
        pos, ids = pos[inside], ids[inside]
        found: np.ndarray = pos[self.ids[pos] == ids]
        return found

    def all_positions(self) -> np.ndarray:
        """Every document."""
        return np.arange(len(self.ids), dtype=np.int64)

    def id_mask(self, pos: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """True where the document's id is one of ``ids``."""
        return np.isin(self.ids[pos], ids)

    def level_mask(self, pos: np.ndarray, levels: Iterable[str]) -> np.ndarray:
        """True where the document's confidentiality is one of ``levels``."""
        codes = [i for i, name in enumerate(ACCESS_LEVELS) if name in set(levels)]
        return np.isin(self.level[pos], np.asarray(codes, dtype=np.int8))

    def lifecycle_mask(self, pos: np.ndarray, archived: str) -> np.ndarray:
        """True where the entry's lifecycle is covered: ``exclude`` active only, ``only`` archived only, else all."""
        mask: np.ndarray
        if archived == "only":
            mask = self.lifecycle[pos] == 1
        elif archived == "exclude":
            mask = self.lifecycle[pos] == 0
        else:
            mask = np.ones(len(pos), dtype=bool)
        return mask

    def lifecycle_counts(self, pos: np.ndarray) -> list[tuple[str, int]]:
        """How many of the matches are active and archived (the ``lifecycle`` facet; zero counts left out)."""
        counts = np.bincount(self.lifecycle[pos], minlength=len(LIFECYCLES))
        return [(name, int(counts[i])) for i, name in enumerate(LIFECYCLES) if counts[i]]

    def type_mask(self, pos: np.ndarray, doc_types: Iterable[str]) -> np.ndarray:
        """True where the document type is one of ``doc_types`` (case-insensitive)."""
        wanted = {t.lower() for t in doc_types}
        codes = [i for i, v in enumerate(self.codes["doc_type"].values) if v.lower() in wanted]
        return np.isin(self.doc_type[pos], np.asarray(codes, dtype=np.int32))

    def set_mask(
        self, name: str, pos: np.ndarray, accept: Callable[[str], bool], key: Hashable | None = None
    ) -> np.ndarray:
        """True where any member of the document's set column ``name`` is accepted.

        Which set codes are accepted is worked out once per snapshot for a ``key`` naming ``accept``.
        """
        table: np.ndarray | None = None if key is None else self.memo.get(("set", name, key))
        if table is None:
            members = self.codes[name].members  # append-only: every code of this snapshot is in it
            count = len(members)
            table = np.fromiter((any(accept(m) for m in ms) for ms in members), dtype=bool, count=count)
            if key is not None:
                self.memo.put(("set", name, key), table, count // 4 + 1)
        found: np.ndarray = table[self.sets[name][pos]]
        return found

    def used_members(self, name: str) -> frozenset[str]:
        """Every value of set column ``name`` that some document of this snapshot holds."""
        found = self._used.get(name)
        if found is None:
            members = self.codes[name].members
            found = frozenset(m for code in np.unique(self.sets[name]) for m in members[int(code)])
            self._used[name] = found
        return found

    def customer_mask(self, pos: np.ndarray, keys: Iterable[str]) -> np.ndarray:
        """True where a customer name or alias equals, or else contains, any of the normalised ``keys``.

        A key that is some document's customer name or alias selects exactly that name; any
        other key is a fragment (``明远`` finds 上海明远科技有限公司).
        """
        used = self.used_members("customer_keys")
        exact = {k for k in keys if k and k in used}
        fragments = [k for k in keys if k and k not in used]
        return self.set_mask(
            "customer_keys",
            pos,
            lambda m: m in exact or any(f in m for f in fragments),
            key=("customer", frozenset(exact), tuple(fragments)),
        )

    def tag_mask(self, pos: np.ndarray, tags: Iterable[str]) -> np.ndarray:
        """True where the document carries any of ``tags``."""
        wanted = set(tags)
        return self.set_mask("tags", pos, wanted.__contains__, key=("tag", frozenset(wanted)))

    def date_mask(self, pos: np.ndarray, date_from: str | None, date_to: str | None) -> np.ndarray:
        """True where the document date lies in the range; a bare upper date includes its whole day."""
        dates = self.date[pos]
        mask = dates != _NO_DATE
        if date_from:
            mask &= dates >= date_from
        if date_to:
            mask &= dates.astype(f"U{len(date_to)}") <= date_to  # astype truncates: compare the prefix
        result: np.ndarray = mask
        return result

    def date_prefix_mask(self, pos: np.ndarray, prefixes: Iterable[str]) -> np.ndarray:
        """True where the document date starts with any of ``prefixes`` (a year, ``2024-03``, a day)."""
        dates = self.date[pos]
        mask = np.zeros(len(pos), dtype=bool)
        for prefix in {p for p in prefixes if p}:
            mask |= (dates if len(prefix) >= 10 else dates.astype(f"U{len(prefix)}")) == prefix
        return mask

    # -- counting ----------------------------------------------------------------------------

    def _years(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct years, each document's index into them): the ``year`` facet as a bincount."""
        found = self._year_codes
        if found is None:
            years, codes = np.unique(self.date.astype("U4"), return_inverse=True)
            found = self._year_codes = (years, codes.reshape(-1))
        return found

    def facets(self, pos: np.ndarray, limit: int) -> dict[str, list[tuple[str, int]]]:
        """Counts by document type, customer, tag, customer type, industry, region, stage, importance, customer tag,
        file format, scan and year."""
        out: dict[str, list[tuple[str, int]]] = {}
        doc_types = self.codes["doc_type"].values
        counts = np.bincount(self.doc_type[pos], minlength=len(doc_types))
        out["doc_type"] = _top({doc_types[i]: int(n) for i, n in enumerate(counts) if n}, limit)
        for facet, name in SET_FACETS.items():
            members = self.codes[name].members
            per_set = np.bincount(self.sets[name][pos], minlength=len(members))
            totals: dict[str, int] = {}
            for i in np.flatnonzero(per_set):
                for value in members[i]:
                    totals[value] = totals.get(value, 0) + int(per_set[i])
            out[facet] = _top(totals, limit)
        years, codes = self._years()
        year_counts = np.bincount(codes[pos], minlength=len(years))
        rows = [(str(y), int(n)) for y, n in zip(years, year_counts, strict=True) if n and y.strip()]
        out["year"] = sorted(_top(dict(rows), limit), key=lambda r: r[0], reverse=True)
        return out


def _top(counts: dict[str, int], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _utf8(values: np.ndarray) -> np.ndarray:
    """``values`` as UTF-8 byte strings (bytes stay as they are)."""
    if values.dtype.kind != "U":
        return values
    try:
        return values.astype(f"S{max(values.dtype.itemsize // 4, 1)}")
    except UnicodeEncodeError:
        return np.array([v.encode() for v in values.tolist()], dtype=bytes)


def _words(values: np.ndarray) -> list[np.ndarray]:
    """Sort keys for ``np.lexsort`` that order ``values`` (strings or bytes) as the strings order.

    The UTF-8 bytes (whose order is the code points' order), null-padded to a multiple of 8 and
    read as big-endian unsigned 64-bit words: comparing the words in turn compares the bytes.
    Least significant word first, as ``lexsort`` wants its keys; words that are zero everywhere
    (the padding past the longest value) are left out.
    """
    values = _utf8(values)
    width = max(values.dtype.itemsize, 1)
    padded = np.ascontiguousarray(values, dtype=f"S{width + (-width) % 8}")
    words = padded.view(">u8").reshape(len(values), padded.dtype.itemsize // 8)
    return [words[:, j] for j in range(words.shape[1] - 1, -1, -1) if words[:, j].any()]

"""What the embedded index has worked out for one snapshot of it: match sets, bm25 scores, hits.

A :class:`Memo` belongs to one :class:`index._columns.Columns` snapshot.  Every write to the
index appends to ``search_log`` in its own transaction, and the next search that reads the log
takes a new snapshot, with an empty memo; so nothing here outlives the data it was computed
from (a search that started before a write may still read the old snapshot's memo, as it reads
the old snapshot's columns).  What is kept does not depend on who asks: match sets before the
permission filter, scores of whole match sets, and hits (snippets) of entries the caller was
already allowed to see; the permission filter and the request's filters run on every search.

Bounded by a budget of "units" of about 4 bytes (a position is one, a score two, a hit
:data:`HIT_UNITS`); the least recently used entries go first.  The budget holds the match sets and
scores of a hundred or so broad queries at 100,000 documents (a smaller one, cycled through by a
mix of queries, would drop each entry just before it is asked for again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

__all__ = ["HIT_UNITS", "Memo"]

#: About 24 MB per snapshot at most (int32 positions, float64 scores).
BUDGET = 6_000_000
#: What one cached hit (snippet and title HTML, a few hundred bytes) counts for.
HIT_UNITS = 64


class Memo:
    """A thread-safe LRU map with a size budget."""

    def __init__(self, budget: int = BUDGET) -> None:
        self._budget = budget
        self._used = 0
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The value stored under ``key``, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` (of ``size`` units) unless it alone exceeds the budget."""
        if size > self._budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            self._items[key] = (value, size)
            self._used += size
            while self._used > self._budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self._used -= dropped

    def __len__(self) -> int:
        return len(self._items)

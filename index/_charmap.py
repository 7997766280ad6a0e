"""Per-character text maps applied at array speed (the analysis's normalisation hot path).

:func:`index._analysis.normalize_text` maps every character on its own (NFKC, then lower
case).  ``str.translate`` does that one dictionary lookup at a time (and ``set(text)`` to
learn new characters costs as much again); a :class:`CharMap` instead views the text as
UTF-32 code points and maps them with one numpy ``take`` over a table, learning each
code point the first time it is seen.  Characters whose map is not exactly one character
(``ﬁ`` → ``fi``, a soft hyphen → nothing) and code points past :data:`LIMIT` send the
text back to the caller's character-by-character path, so the result is always the
character-wise map, whatever the text.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import numpy as np

__all__ = ["LIMIT", "CharMap"]

#: Code points below this are kept in the tables (every CJK block up to Extension H).
LIMIT = 0x32000
#: Texts shorter than this are left to the caller (numpy's fixed cost is a few µs).
SHORT = 80
_UNKNOWN, _ONE, _OTHER = 0, 1, 2
_CODEC = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"


class CharMap:
    """A per-character map ``fn`` (one character in, a string out) applied to whole texts."""

    def __init__(self, fn: Callable[[str], str]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._kind = np.zeros(LIMIT, dtype=np.uint8)  # _UNKNOWN, _ONE (maps to one character), _OTHER
        self._to = np.arange(LIMIT, dtype=np.uint32)  # the one character a _ONE code point maps to

    def _learn(self, codes: np.ndarray) -> None:
        with self._lock:
            for code in np.unique(codes).tolist():
                if code >= LIMIT or self._kind[code] != _UNKNOWN:
                    continue
                out = self._fn(chr(code))
                if len(out) == 1:
                    self._to[code] = ord(out)
                    self._kind[code] = _ONE
                else:
                    self._kind[code] = _OTHER

    def apply(self, text: str) -> str | None:
        """``text`` with every character mapped, when each maps to exactly one character; else None."""
        if len(text) < SHORT:
            return None  # the caller's path is as fast
        codes = np.frombuffer(text.encode(_CODEC), dtype=np.uint32)
        if len(codes) and int(codes.max()) >= LIMIT:
            return None
        kinds = self._kind[codes]
        if not kinds.all():
            self._learn(codes[kinds == _UNKNOWN])
            kinds = self._kind[codes]
        if (kinds != _ONE).any():
            return None
        mapped: str = self._to[codes].tobytes().decode(_CODEC)
        return mapped

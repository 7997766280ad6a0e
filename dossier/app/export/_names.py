"""Safe, unique, readable member names for the ZIP of originals: ``<customer>/<type>/<file name>.<ext>``.

Titles, customer names and file names come from files and people, so every part is made
safe for every unpacker: no path separators or ``..`` (no path traversal), no drive letters,
no control or invisible formatting characters (a right-to-left override could disguise
``exe.pdf``), none of Windows' forbidden characters ``<>:"/\\|?*``, no reserved device names
(CON, NUL, COM1 …), no leading or trailing dots and spaces, at most 150 UTF-8 bytes per part
(file systems allow 255).  Names that would clash — also when they differ only in case, as on
Windows and macOS — get `` (2)``, `` (3)`` … before the extension.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath

__all__ = ["UniqueNames", "extension_of", "safe_part"]

_FORBIDDEN = set('<>:"/\\|?*')
_DROPPED = ("Cc", "Cf", "Cs", "Co", "Cn")
_SPACES = re.compile(r"\s+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)", re.IGNORECASE)
#: Longest part, in UTF-8 bytes, before a `` (n)`` suffix and the extension are added.
MAX_PART_BYTES = 150


def _clip(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def safe_part(text: str, fallback: str, max_bytes: int = MAX_PART_BYTES) -> str:
    """One path part: ``text`` made safe (see the module docstring), or ``fallback`` when nothing is left."""
    out = []
    for ch in unicodedata.normalize("NFC", text or ""):
        if ch in _FORBIDDEN:
            out.append("_")
        elif ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif unicodedata.category(ch) not in _DROPPED:
            out.append(ch)
    part = _SPACES.sub(" ", "".join(out)).strip(" .")
    part = _clip(part, max_bytes).rstrip(" .")
    if not part:
        part = fallback
    if _RESERVED.match(part):
        part = "_" + part
    return part


def extension_of(filename: str, mime: str = "") -> str:
    """The original's extension, lower case, letters and digits only (``pdf``); from the MIME type when it has none."""
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lstrip(".").lower()
    if not suffix and mime:
        suffix = (mimetypes.guess_extension(mime.split(";")[0].strip()) or "").lstrip(".")
    suffix = "".join(ch for ch in suffix if ch.isascii() and ch.isalnum())
    return suffix[:10]


class UniqueNames:
    """Hands out member paths no earlier one clashes with (compared case-insensitively)."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._used = {name.casefold() for name in reserved}
        self._next: dict[str, int] = {}

    def taken(self, folders: Iterable[str], stem: str, ext: str) -> bool:
        """Whether ``folder/…/stem.ext`` is already handed out (ignoring case)."""
        base = "/".join(folders)
        dotted = f".{ext}" if ext else ""
        path = f"{base}/{stem}{dotted}" if base else f"{stem}{dotted}"
        return path.casefold() in self._used

    def path(self, folders: Iterable[str], stem: str, ext: str) -> str:
        """``folder/…/stem.ext``, or ``stem (n).ext`` with the lowest free ``n`` the stem has not used yet."""
        base = "/".join(folders)
        dotted = f".{ext}" if ext else ""
        key = f"{base}/{stem}{dotted}".casefold()
        n = self._next.get(key, 1)
        while True:
            name = stem if n == 1 else f"{stem} ({n})"
            path = f"{base}/{name}{dotted}" if base else f"{name}{dotted}"
            if path.casefold() not in self._used:
                self._used.add(path.casefold())
                self._next[key] = n + 1
                return path
            n += 1

"""The data home is private to the account that runs Dossier: the folder 0700, every file in it 0600.

It holds the text of every document (``dossier.db``), the originals (``blobs/``), exports, the
web session key and Redis's queue, so nobody else on the machine may read any of it.  Three
things keep it so:

* every entry point (the ``dossier`` command — and so the workers and the web server it starts —
  and the WSGI app) sets the process umask to 077 (:func:`private_umask`): whatever is created
  later (SQLite's ``-wal``/``-shm``, blobs, exports, locks, Redis's files) is private;
* :func:`secure_home` tightens the home and what Dossier keeps directly in it when this account
  owns them (``dossier init`` and every open), so a home made before (0755, ``dossier.db`` 0644)
  is private from its first open on;
* :func:`file_mode_problems` finds what others may still read (``dossier status`` warns about it,
  and ``--json`` carries the warnings): files it cannot fix (another account's) or files deeper in.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from foundation.messages import msg

__all__ = ["PRIVATE_UMASK", "file_mode_problems", "file_mode_warnings", "private_umask", "secure_home"]

#: The umask of every Dossier process: no permission for group or others on anything it creates.
PRIVATE_UMASK = 0o077
#: Sub-folders whose files :func:`secure_home` tightens too (few files; ``blobs`` are written 0600 one by one).
_SMALL_FOLDERS = ("exports", "redis", "logs")
#: At most this many problems are listed one by one (the rest are counted).
MAX_LISTED = 20


def private_umask() -> int:
    """Make everything this process creates from now on private (umask 077); returns the umask it replaces."""
    return os.umask(PRIVATE_UMASK)


def _ours(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid()


def _tighten(path: Path, mode: int) -> bool:
    """chmod ``path`` to ``mode`` when it is ours and grants more than that; True when it changed."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or not _ours(st) or not st.st_mode & PRIVATE_UMASK:
        return False
    try:
        path.chmod(mode)
    except OSError:
        return False
    return True


def secure_home(home: Path) -> list[Path]:
    """Tighten the home (0700), the files directly in it (0600), its folders (0700) and the files of
    ``exports``/``redis``/``logs`` (0600) — only what this account owns; returns what it changed."""
    changed: list[Path] = []
    if not home.is_dir():
        return changed
    if _tighten(home, 0o700):
        changed.append(home)
    try:
        entries = list(os.scandir(home))
    except OSError:
        return changed
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if _tighten(path, 0o700):
                changed.append(path)
            if entry.name in _SMALL_FOLDERS:
                for inner in path.rglob("*"):
                    if _tighten(inner, 0o700 if inner.is_dir() else 0o600):
                        changed.append(inner)
        elif _tighten(path, 0o600):
            changed.append(path)
    return changed


def file_mode_problems(home: Path, extra_files: Iterable[Path] = ()) -> list[dict[str, Any]]:
    """Every part of the home others may use: the home itself unless 0700 (group/other bits), and every
    file under it (blobs, exports, the database and its ``-wal``/``-shm``, keys, Redis's files) unless
    only its owner may read it; ``extra_files`` (a key file kept elsewhere) too.

    Each problem is ``{"path", "mode", "expected"}`` (modes as octal strings, ``0644``).
    """
    problems: list[dict[str, Any]] = []

    def check(path: Path, expected: int) -> None:
        try:
            st = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode):
            return
        if st.st_mode & PRIVATE_UMASK:
            problems.append(
                {"path": str(path), "mode": f"{stat.S_IMODE(st.st_mode):04o}", "expected": f"{expected:04o}"}
            )

    if home.is_dir():
        check(home, 0o700)
        for folder, _dirs, files in os.walk(home):
            for name in files:
                check(Path(folder) / name, 0o600)
    for path in extra_files:
        check(path, 0o600)
    return problems


def file_mode_warnings(problems: list[dict[str, Any]]) -> list[str]:
    """One line per problem (the first :data:`MAX_LISTED`, then a count), each saying how to fix it."""
    lines = [
        str(
            msg(
                "foundation.filemodes.open",
                path=p["path"],
                mode=p["mode"],
                expected=p["expected"],
                octal=p["expected"][1:],
            )
        )
        for p in problems[:MAX_LISTED]
    ]
    if len(problems) > MAX_LISTED:
        rest = len(problems) - MAX_LISTED
        lines.append(str(msg("foundation.filemodes.more", rest=rest)))
    return lines

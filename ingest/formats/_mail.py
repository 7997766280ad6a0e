"""Shared e-mail helpers: the header block and safe attachment names."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from foundation.messages import msg
from ingest._errors import LimitExceeded
from ingest._limits import Limits

# check_children_allowed's ``what`` (the container, as callers name it) -> its two messages.
_CHILD_LIMITS = {
    "压缩包": ("ingest.zip.children_nested", "ingest.zip.children_too_many"),
    "邮件附件": ("ingest.mail.children_nested", "ingest.mail.children_too_many"),
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def header_block(fields: list[tuple[str, str]]) -> str:
    """``Subject:/From:/To:/Cc:/Date:`` lines, skipping empty values."""
    return "\n".join(f"{k}: {' '.join(v.split())}" for k, v in fields if v and v.strip())


def safe_name(name: str | None, fallback: str) -> str:
    """The last path component of an attachment/member name, without control characters."""
    name = (name or "").strip()
    name = PureWindowsPath(PurePosixPath(name).name).name if name else ""
    name = _UNSAFE.sub("_", name).strip(". ")
    return name[:255] or fallback


def check_children_allowed(depth: int, count: int, limits: Limits, what: str) -> None:
    """Refuse when children at ``depth + 1`` would nest deeper than allowed, or there are too many."""
    if count and depth + 1 > limits.max_depth:
        raise LimitExceeded(msg(_CHILD_LIMITS[what][0], limit=limits.max_depth))
    if count > limits.zip_max_members:
        raise LimitExceeded(msg(_CHILD_LIMITS[what][1], count=count))

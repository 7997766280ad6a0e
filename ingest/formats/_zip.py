"""ZIP archives: expanded member by member into children; the archive's page lists the names.

Sizes in ZIP headers are never trusted: members are read in chunks and the real bytes are
counted against ``zip_max_total_bytes`` and ``zip_max_ratio``; nested archives are scanned
the same way (sharing the budget) down to ``max_depth``, so a nested bomb fails here, fast.
Directory entries, ``__MACOSX/`` and ``.DS_Store`` are skipped; member paths are reduced to
their base name (no absolute or ``..`` paths reach the caller).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from foundation.messages import msg
from ingest._errors import BrokenFile, EncryptedFile, LimitExceeded
from ingest._limits import Limits
from ingest._model import ChildFile, Page
from ingest.formats._mail import check_children_allowed, safe_name
from ingest.formats._types import Extraction, ParseContext

_CHUNK = 1 << 16
# Small members may compress extremely well (a page of blanks); the ratio rule starts here.
RATIO_FLOOR_BYTES = 64 * 1024


@dataclass
class _Budget:
    total: int = 0


def _skip(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return "__MACOSX" in parts or parts[-1] in (".DS_Store", "Thumbs.db", "desktop.ini")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, budget: _Budget) -> bytes:
    out = io.BytesIO()
    seen = 0
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            seen += len(chunk)
            budget.total += len(chunk)
            if budget.total > limits.zip_max_total_bytes:
                raise LimitExceeded(
                    msg("ingest.zip.too_large", mb=limits.zip_max_total_bytes // (1024 * 1024))
                )
            if seen > RATIO_FLOOR_BYTES and seen > limits.zip_max_ratio * max(info.compress_size, 1):
                raise LimitExceeded(
                    msg(
                        "ingest.zip.ratio",
                        ratio=f"{limits.zip_max_ratio:g}",
                        name=safe_name(info.filename, "?"),
                    )
                )
            out.write(chunk)
    return out.getvalue()


def _members(data: bytes, limits: Limits, depth: int, budget: _Budget) -> list[tuple[str, str, bytes]]:
    """``(path, safe base name, bytes)`` of every readable member; nested ZIPs are scanned too."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BrokenFile(msg("ingest.zip.damaged", detail=exc)) from None
    found = []
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not _skip(i.filename)]
        if len(infos) > limits.zip_max_members:
            raise LimitExceeded(
                msg("ingest.zip.too_many_members", count=len(infos), limit=limits.zip_max_members)
            )
        encrypted = 0
        for i, info in enumerate(infos, 1):
            if info.flag_bits & 0x1:
                encrypted += 1
                continue
            try:
                payload = _read_member(zf, info, limits, budget)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
                raise BrokenFile(
                    msg("ingest.zip.damaged_member", name=safe_name(info.filename, "?"), detail=exc)
                ) from None
            if payload[:4] == b"PK\x03\x04":
                if depth + 1 >= limits.max_depth:
                    raise LimitExceeded(msg("ingest.zip.nested", limit=limits.max_depth))
                _members(payload, limits, depth + 1, budget)
            found.append((info.filename, safe_name(info.filename, f"member-{i}"), payload))
        if encrypted and not found:
            raise EncryptedFile(msg("ingest.zip.encrypted"))
    return found


class ZipExtractor:
    """ZIP archives (that are not OOXML documents)."""

    name = "zip"
    formats = frozenset({"zip"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """List members on one page and hand each member back as ``ChildFile(relation="member")``."""
        if ctx.depth >= ctx.limits.max_depth:
            raise LimitExceeded(msg("ingest.zip.nested", limit=ctx.limits.max_depth))
        members = _members(data, ctx.limits, ctx.depth, _Budget())
        check_children_allowed(ctx.depth, len(members), ctx.limits, "压缩包")
        listing = "\n".join(path for path, _, _ in members)
        children = [ChildFile(filename=name, data=payload, relation="member") for _, name, payload in members]
        return Extraction(
            pages=[Page(number=1, text=listing)], children=children, metadata={"members": str(len(members))}
        )


EXTRACTORS = (ZipExtractor(),)

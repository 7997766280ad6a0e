"""The ZIP of originals: every hit's newest original under ``<customer>/<type>/<file name>.<ext>`` (its
original file name; the title when it has none or the name is taken: :func:`member_path`),
then ``manifest.csv`` and ``manifest.json`` (one entry per hit, with the sha256 of each file).

The archive is written as a stream (local headers with data descriptors), so it can go
straight to a browser or a pipe; memory holds one original of at most 16 MB (larger ones
are checked — and decrypted, with encryption at rest — into the blob store's private
plaintext file first, then copied in 1 MB pieces) and the manifests grow in temporary
files.  Every original is checked against its sha256 before it goes in: a missing,
undecryptable or damaged one is left out and its manifest entry says why.  An activity or
comment hit has no file: it is a manifest row (its ``activity`` id and ``kind``) whose status says so.  Zip64 records are
written wherever sizes, offsets or the member count need them, so archives over 4 GiB or
with more than 65,535 members open everywhere.  Member names: see :mod:`dossier.app.export._names`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dossier.app.export._names import UniqueNames, extension_of, safe_part
from dossier.app.export._rows import ExportRow
from dossier.app.export._tabular import neutralise
from foundation.messages import msg
from records import BlobCorrupt, BlobMissing, BlobStore, BlobUnreadable

__all__ = ["MANIFEST_COLUMNS", "zip_chunks"]

#: Originals up to this size are read whole (and checked) in one go; larger ones in pieces.
IN_MEMORY_MAX = 16 << 20
PIECE = 1 << 20
NO_CUSTOMER = "未关联客户"
#: Already-compressed formats are stored as they are; deflating them costs time and saves nothing.
STORED_EXTENSIONS = frozenset(
    [
        "docx",
        "xlsx",
        "pptx",
        "zip",
        "gz",
        "tgz",
        "bz2",
        "xz",
        "7z",
        "rar",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "heic",
        "mp3",
        "mp4",
        "m4a",
        "mov",
        "avi",
        "odt",
        "ods",
        "odp",
    ]
)
MANIFEST_COLUMNS = (
    ("path", "压缩包内路径"),
    ("id", "编号"),
    ("title", "标题"),
    ("customers", "客户"),
    ("doc_type", "文档类型"),
    ("date", "文档日期"),
    ("filename", "原文件名"),
    ("size", "大小（字节）"),
    ("sha256", "sha256"),
    ("status", "状态"),
    ("url", "链接"),
    ("archived", "已归档"),
    ("stages", "销售阶段"),
    ("importance", "重要性"),
    ("customer_tags", "客户标签"),
)


class _Sink:
    """A write-only, unseekable file for ``zipfile``: what it writes waits here until drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        """Nothing to flush: the generator drains."""

    def close(self) -> None:
        """Nothing to close: the generator drains."""

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _dos_time(row: ExportRow) -> tuple[int, int, int, int, int, int]:
    stamp = row.uploaded_at.timetuple() if row.uploaded_at is not None else time.gmtime()
    return max(1980, stamp.tm_year), stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec


def _without_ext(name: str, ext: str) -> str:
    return name[: -len(ext) - 1] if ext and name.lower().endswith("." + ext.lower()) else name


def member_path(names: UniqueNames, row: ExportRow) -> str:
    """The member path of one original (unique within the archive): ``<customer>/<type>/<file name>``.

    The original's own file name is kept; the document's title stands in when there is no file name or
    when the name is already taken in that folder (two ``scan.pdf``), and a title taken too gets `` (2)``.
    """
    ext = extension_of(row.filename, row.mime)
    customer = safe_part(row.customers[0] if row.customers else "", NO_CUSTOMER)
    doc_type = safe_part(row.doc_type_label, "其他")
    folders = (customer, doc_type)
    title = safe_part(_without_ext(row.title, ext), f"文档-{row.id}")
    original = _without_ext(row.filename or "", ext).strip()
    if original:
        stem = safe_part(original, title)
        if not names.taken(folders, stem, ext):
            return names.path(folders, stem, ext)
    return names.path(folders, title, ext)


def zip_chunks(rows: Iterable[ExportRow], blobs: BlobStore, *, meta: Mapping[str, Any]) -> Iterator[bytes]:
    """The ZIP archive as byte chunks (see the module docstring); ``meta`` heads manifest.json."""
    sink = _Sink()
    names = UniqueNames(reserved=("manifest.csv", "manifest.json"))
    with tempfile.TemporaryDirectory(prefix="dossier-zip-") as tmp:
        manifest_csv = Path(tmp) / "manifest.csv"
        manifest_json = Path(tmp) / "manifest.json"
        archive = zipfile.ZipFile(sink, "w", allowZip64=True)
        counts = {"files": 0, "missing": 0, "activities": 0}
        with (
            manifest_csv.open("w", encoding="utf-8-sig", newline="") as mcsv,
            manifest_json.open("w", encoding="utf-8") as mjson,
        ):
            table = csv.writer(mcsv, lineterminator="\r\n")
            table.writerow([f"{zh} {key}" if zh != key else key for key, zh in MANIFEST_COLUMNS])
            head = json.dumps(dict(meta), ensure_ascii=False, default=str)
            mjson.write(head[:-1] + (", " if len(head) > 2 else "") + '"files": [')
            for row in rows:
                entry = {
                    "path": None,
                    "id": row.id,
                    "title": row.title,
                    "customers": list(row.customers),
                    "doc_type": row.doc_type,
                    "date": row.date,
                    "filename": row.filename,
                    "size": row.size,
                    "sha256": row.sha256,
                    "status": "ok",
                    "url": row.url,
                    "archived": row.archived,
                    "stages": list(row.stages),
                    "importance": list(row.importance),
                    "customer_tags": list(row.customer_tags),
                }
                if row.activity:  # an activity or comment: a manifest row, no file
                    entry["activity"], entry["kind"] = row.activity, row.kind
                    entry["status"] = str(msg("app.export.activity_no_file"))
                elif not row.sha256:
                    entry["status"] = str(msg("app.export.no_original"))
                else:
                    with contextlib.ExitStack() as stack:
                        try:
                            data, plain, size = _original(blobs, row.sha256, stack)
                        except (BlobMissing, BlobCorrupt, BlobUnreadable) as exc:
                            entry["status"] = str(exc)
                        else:
                            path = member_path(names, row)
                            entry["path"], entry["size"] = path, size
                            yield from _write_member(archive, sink, row, path, data, plain, size)
                if entry["status"] == "ok":
                    counts["files"] += 1
                elif row.activity:
                    counts["activities"] += 1
                else:
                    counts["missing"] += 1
                table.writerow(
                    [
                        entry["path"] or "",
                        row.id or row.activity,
                        neutralise(row.title),
                        neutralise("; ".join(row.customers)),
                        row.doc_type_label,
                        row.date or "",
                        neutralise(row.filename),
                        entry["size"],
                        row.sha256,
                        neutralise(str(entry["status"])),
                        row.url,
                        "是" if row.archived else "否",
                        neutralise("; ".join(row.stages)),
                        "; ".join(row.importance),
                        neutralise("; ".join(row.customer_tags)),
                    ]
                )
                mjson.write(
                    ("\n" if sum(counts.values()) == 1 else ",\n") + json.dumps(entry, ensure_ascii=False)
                )
            mjson.write(
                f'\n], "count": {counts["files"]}, "missing": {counts["missing"]},'
                f' "activities": {counts["activities"]}}}\n'
            )
        for name, source in (("manifest.csv", manifest_csv), ("manifest.json", manifest_json)):
            info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.file_size = source.stat().st_size
            with archive.open(info, "w") as member, source.open("rb") as fh:
                while piece := fh.read(PIECE):
                    member.write(piece)
                    yield from _drained(sink)
        archive.close()
        yield from _drained(sink)


def _original(
    blobs: BlobStore, sha256: str, stack: contextlib.ExitStack
) -> tuple[bytes | None, Path | None, int]:
    """(bytes, None, size) of a small original, or (None, path of its verified plaintext, size) of a large one.

    Either way it is decrypted (when sealed) and checked against its sha256 before anything is
    written; the plaintext file of a large sealed original lives until ``stack`` closes.
    Raises BlobMissing, BlobUnreadable or BlobCorrupt as the blob store does.
    """
    if blobs.size(sha256) <= IN_MEMORY_MAX:
        data = blobs.get(sha256)
        return data, None, len(data)
    plain = stack.enter_context(blobs.plaintext_file(sha256))
    return None, plain, plain.stat().st_size


def _write_member(
    archive: zipfile.ZipFile,
    sink: _Sink,
    row: ExportRow,
    path: str,
    data: bytes | None,
    plain: Path | None,
    size: int,
) -> Iterator[bytes]:
    info = zipfile.ZipInfo(path, date_time=_dos_time(row))
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    info.compress_type = zipfile.ZIP_STORED if ext in STORED_EXTENSIONS else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.file_size = size  # lets zipfile choose Zip64 for this member before its data is written
    with archive.open(info, "w") as member:
        if data is not None:
            for start in range(0, len(data), PIECE):
                member.write(data[start : start + PIECE])
                yield from _drained(sink)
        elif plain is not None:
            with plain.open("rb") as fh:
                while piece := fh.read(PIECE):
                    member.write(piece)
                    yield from _drained(sink)
    yield from _drained(sink)


def _drained(sink: _Sink) -> Iterator[bytes]:
    """What the sink holds, unless that is nothing."""
    data = sink.drain()
    if data:
        yield data

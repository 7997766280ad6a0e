"""ZIP: members become children; bombs, depth and counts are limited by real bytes."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

import ingest
from tests.ingest.conftest import dev_file


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_members_become_children_with_safe_names() -> None:
    """Members are children named by base name; directories and macOS litter are skipped."""
    data = _zip(
        {
            "docs/报价.txt": "报价".encode(),
            "../../etc/evil.txt": b"x",
            "/abs/a.txt": b"y",
            "__MACOSX/docs/._报价.txt": b"z",
            "docs/.DS_Store": b"q",
            "empty/": b"",
        }
    )
    doc = ingest.parse_bytes(data, "a.zip")
    assert sorted(c.filename for c in doc.children) == ["a.txt", "evil.txt", "报价.txt"]
    assert all(c.relation == "member" for c in doc.children)
    assert "docs/报价.txt" in doc.text


def test_nested_streamed_bomb_fails_fast() -> None:
    """The nested 4 x 200 MiB bomb fails with LimitExceeded in well under a few seconds."""
    start = time.monotonic()
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_file(dev_file("bad/客户资料备份.zip"))
    assert time.monotonic() - start < 5


def test_member_count_and_total_size_limits() -> None:
    """Too many members, or more expanded bytes than allowed, raise LimitExceeded."""
    many = _zip({f"{i}.txt": b"x" for i in range(20)})
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_bytes(many, "m.zip", limits=ingest.Limits(zip_max_members=10))
    import os

    big = _zip({"r.bin": os.urandom(300_000)})
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_bytes(big, "b.zip", limits=ingest.Limits(zip_max_total_bytes=100_000))


def test_depth_limit() -> None:
    """A ZIP at the deepest level, or a ZIP nested past it, raises LimitExceeded."""
    inner = _zip({"a.txt": b"a"})
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_bytes(inner, "i.zip", depth=2, limits=ingest.Limits(max_depth=2))
    nested = _zip({"l1.zip": _zip({"l2.zip": inner})})
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_bytes(nested, "n.zip", limits=ingest.Limits(max_depth=2))

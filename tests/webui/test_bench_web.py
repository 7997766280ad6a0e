"""bench/web.py stays runnable: a tiny home, every page as both users, bytes and times in every row."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.conftest import DEV

ROOT = Path(__file__).resolve().parents[2]


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_web", ROOT / "bench" / "web.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_assets_are_found_in_the_html():
    bench = _bench()
    html = (
        '<link rel="stylesheet" href="/static/a.css"><link rel="icon" href="/x.ico">'
        '<script src="/static/b.js" defer></script><script>inline()</script>'
        '<img src="thumb/1.png" loading="lazy"><img src="data:image/png;base64,AAAA"><img src="/static/a.css">'
    )
    assert bench.assets_of(html, "/documents/7") == [
        ("css", "/static/a.css"),
        ("js", "/static/b.js"),
        ("img", "/documents/thumb/1.png"),
        ("img", "/static/a.css"),
    ]


def test_a_tiny_run_measures_every_page_as_both_users(tmp_path, monkeypatch):
    if not DEV.is_dir():
        pytest.skip(f"test corpus not found at {DEV}")
    monkeypatch.setenv("DOSSIER_CORPUS", str(DEV.parent))
    out = tmp_path / "rows.json"
    bench = _bench()
    bench.main(
        ["--docs", "12", "--zip", "3", "--repeat", "2", "--home", str(tmp_path / "home"), "--json", str(out)]
    )
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert {(r["page"], r["user"]) for r in rows} == {(p, u) for p in bench.PAGES for u in bench.USERS}
    for r in rows:
        assert r["missing"] == [], r
        assert 0 < r["p50_ms"] <= r["p95_ms"]
        assert r["first"]["html"] > 0 and r["first"]["css"] > 0 and r["first"]["js"] > 0
        # The HTML is no-store (fetched again); static files revalidate to 304 (nothing again).
        assert r["repeat"]["html"] == r["first"]["html"]
        assert r["repeat"]["css"] == 0 and r["repeat"]["js"] == 0
        assert r["first_total"] >= r["repeat_total"]

"""Benchmark the web pages: server time (p50/p95) and the bytes a browser transfers, first and repeat view.

Builds the bench data home of ``bench/export.py`` (``--docs`` documents, default 100,000, written
straight into the records and the embedded index from varied dev-corpus texts, spread over 60
customers; the first ``--zip`` of them, default 200, carry real dev-corpus originals, so previews and
page images have something to draw), adds a signed-in admin and a sales rep who owns every third
customer, then measures four pages through the Flask app (its test client: the whole request in
the app — routing, permissions, queries, templates — without a network):

* ``start``: the start page ``/``;
* ``search``: ``/?q=合同`` (hits with their previews and facets);
* ``document``: ``/documents/1`` (a document with a real original);
* ``customer``: ``/customers/1`` (a customer with ``--docs``/60 documents).

Server time: ``--repeat`` requests (default 20) per page and user after one warm-up; p50 and p95 ms.

Bytes: the page's HTML plus what it references — stylesheets (``<link rel=stylesheet>`` and the
``url(...)`` inside them), scripts (``<script src>``) and images (``<img src>``, lazy ones
included: an upper bound) — fetched once each.  *First view* counts every body; *repeat view*
counts what a browser downloads again, honouring the answers' headers: ``no-store`` is fetched
again in full; a fresh ``max-age`` (without ``no-cache``) costs nothing; an ``ETag`` or
``Last-Modified`` is revalidated with ``If-None-Match``/``If-Modified-Since`` and a 304 costs
nothing; anything else is downloaded again.  Headers are not counted.  The pages discover their
assets from the HTML, so the numbers follow whatever the pages contain.

Targets (reported, never asserted): p95 ≤ 150 ms server time, first view ≤ 500 KB.

    .venv/bin/python bench/web.py                 # 100,000 documents
    .venv/bin/python bench/web.py --docs 2000     # a quick run
    .venv/bin/python bench/web.py --home /tmp/bench-web --keep   # build once, measure again
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-web-Passw0rd"
USERS = {"admin": "bench-admin", "sales": "bench-sales"}
PAGES = {
    "start": "/",
    "search": "/?q=%E5%90%88%E5%90%8C",  # 合同
    "document": "/documents/1",
    "customer": "/customers/1",
}
TARGET_P95_MS = 150
TARGET_FIRST_KB = 500
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def _export_bench() -> Any:
    """bench/export.py as a module (it builds the data home)."""
    spec = importlib.util.spec_from_file_location("bench_export", ROOT / "bench" / "export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if os.environ.get("DOSSIER_CORPUS"):  # the corpus when it is not beside the repository
        module.CORPUS = Path(os.environ["DOSSIER_CORPUS"]) / "dev"
    return module


def add_users(settings: Any) -> None:
    """The bench's admin and a sales rep who owns every third customer (idempotent)."""
    import sqlalchemy as sa

    from dossier.app.services import Dossier
    from records import Customer, User, hash_password

    d = Dossier.open(settings)
    try:
        with d.sessions() as session:
            users = {}
            for role, name in USERS.items():
                user = session.scalar(sa.select(User).where(User.username == name))
                if user is None:
                    user = User(username=name, role=role, password_hash=hash_password(PASSWORD))
                    session.add(user)
                users[role] = user
            session.flush()
            for customer in session.scalars(sa.select(Customer).order_by(Customer.id)):
                if customer.id % 3 == 1:
                    customer.owner_id = users["sales"].id
            session.commit()
    finally:
        d.close()


def log_in(app: Any, username: str) -> Any:
    """A test client of ``app`` signed in through the login form."""
    client = app.test_client()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None, "no CSRF token on the login form"
    signed = client.post(
        "/auth/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed.status_code == 302, (username, signed.status_code)
    return client


class _Assets(HTMLParser):
    """The stylesheets, scripts and images an HTML page references, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and "stylesheet" in a.get("rel", "").lower().split() and a.get("href"):
            self.urls.append(("css", a["href"]))
        elif tag == "script" and a.get("src"):
            self.urls.append(("js", a["src"]))
        elif tag == "img" and a.get("src"):
            self.urls.append(("img", a["src"]))


def assets_of(html: str, base: str) -> list[tuple[str, str]]:
    """(kind, same-site path) of every asset ``html`` references, without repeats; data: URIs are inline."""
    parser = _Assets()
    parser.feed(html)
    out: list[tuple[str, str]] = []
    for kind, url in parser.urls:
        if url.startswith("data:"):
            continue
        parts = urlsplit(urljoin(base, url))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if (kind, path) not in out:
            out.append((kind, path))
    return out


def _fresh(cache_control: str) -> bool:
    """Whether a browser reuses the answer without asking (a positive max-age, no no-cache/no-store)."""
    directives = [d.strip().lower() for d in cache_control.split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return False
    for d in directives:
        if d.startswith("max-age="):
            value = d.split("=", 1)[1]
            return value.isdigit() and int(value) > 0
    return False


def repeat_bytes(client: Any, path: str, response: Any, body: int) -> int:
    """What a browser downloads again for an asset it fetched before (see the module's docstring)."""
    cache_control = response.headers.get("Cache-Control", "")
    if "no-store" in cache_control.lower():
        return body
    if _fresh(cache_control):
        return 0
    headers = {}
    if response.headers.get("ETag"):
        headers["If-None-Match"] = response.headers["ETag"]
    if response.headers.get("Last-Modified"):
        headers["If-Modified-Since"] = response.headers["Last-Modified"]
    if not headers:
        return body
    again = client.get(path, headers=headers)
    return 0 if again.status_code == 304 else len(again.get_data())


def transfer(client: Any, path: str) -> dict[str, Any]:
    """Bytes of the page at ``path`` and its assets: first view and repeat view, per kind."""
    page = client.get(path)
    html = page.get_data(as_text=True)
    first = {"html": len(page.get_data()), "css": 0, "js": 0, "img": 0}
    repeat = dict(first)  # the pages are no-store: their HTML comes again in full
    if "no-store" not in page.headers.get("Cache-Control", "").lower():
        repeat["html"] = repeat_bytes(client, path, page, first["html"])
    assets = assets_of(html, path)
    seen = {p for _k, p in assets}
    missing = []
    i = 0
    while i < len(assets):
        kind, asset = assets[i]
        i += 1
        answer = client.get(asset)
        if answer.status_code != 200:
            missing.append(f"{asset} ({answer.status_code})")
            continue
        data = answer.get_data()
        first[kind] += len(data)
        repeat[kind] += repeat_bytes(client, asset, answer, len(data))
        if kind == "css":  # fonts and images a stylesheet pulls in
            for url in _CSS_URL.findall(data.decode("utf-8", "replace")):
                if url.startswith("data:"):
                    continue
                parts = urlsplit(urljoin(asset, url))
                found = parts.path + (f"?{parts.query}" if parts.query else "")
                if found not in seen:
                    seen.add(found)
                    assets.append(("img", found))
    return {
        "first": first,
        "repeat": repeat,
        "requests": 1 + len(assets),
        "missing": missing,
        "first_total": sum(first.values()),
        "repeat_total": sum(repeat.values()),
    }


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def server_times(client: Any, path: str, repeat: int) -> dict[str, float]:
    """p50/p95 ms of ``repeat`` requests of ``path`` after one warm-up."""
    warm = client.get(path)
    assert warm.status_code == 200, (path, warm.status_code)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return {"p50_ms": _pct(samples, 50), "p95_ms": _pct(samples, 95), "max_ms": max(samples)}


def measure(settings: Any, repeat: int) -> list[dict[str, Any]]:
    """Every page as every bench user: server times and bytes."""
    from webui import create_app

    app = create_app(settings)
    rows = []
    try:
        for role, username in USERS.items():
            client = log_in(app, username)
            for page, path in PAGES.items():
                row: dict[str, Any] = {"page": page, "path": path, "user": role}
                row.update(server_times(client, path, repeat))
                row.update(transfer(client, path))
                rows.append(row)
    finally:
        if app.extensions.get("dossier") is not None:
            app.extensions["dossier"].close()
    return rows


def print_table(rows: list[dict[str, Any]], docs: int) -> None:
    kb = 1024
    print(
        f"\nweb pages of a {docs:,}-document home (Flask test client; targets: p95 ≤ {TARGET_P95_MS} ms,"
        f" first view ≤ {TARGET_FIRST_KB} KB)"
    )
    header = (
        f"{'page':<10}{'user':<7}{'p50 ms':>8}{'p95 ms':>8}{'first KB':>10}{'html':>7}{'css':>6}{'js':>6}"
        f"{'img':>7}{'repeat KB':>11}{'reqs':>6}  notes"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        notes = []
        if r["p95_ms"] > TARGET_P95_MS:
            notes.append("p95 over target")
        if r["first_total"] > TARGET_FIRST_KB * kb:
            notes.append("first view over target")
        if r["missing"]:
            notes.append("missing: " + ", ".join(r["missing"][:3]))
        f = r["first"]
        print(
            f"{r['page']:<10}{r['user']:<7}{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}{r['first_total'] / kb:>10.1f}"
            f"{f['html'] / kb:>7.1f}{f['css'] / kb:>6.1f}{f['js'] / kb:>6.1f}{f['img'] / kb:>7.1f}"
            f"{r['repeat_total'] / kb:>11.1f}{r['requests']:>6}  {'; '.join(notes)}"
        )


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--docs", type=int, default=100_000, help="documents in the data home (default 100,000)"
    )
    parser.add_argument("--zip", type=int, default=200, help="documents with real originals (default 200)")
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed requests per page and user (default 20)"
    )
    parser.add_argument("--home", type=Path, help="data home to build (or reuse when it exists)")
    parser.add_argument("--keep", action="store_true", help="keep the data home afterwards")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)

    export = _export_bench()
    made = args.home is None
    home = args.home or Path(tempfile.mkdtemp(prefix="dossier-bench-web-")) / "home"
    try:
        if not (home / "dossier.db").exists():
            print(
                f"building {args.docs:,} documents ({min(args.zip, args.docs):,} with originals) …",
                flush=True,
            )
            export.build(home, args.docs, min(args.zip, args.docs))
        settings = export._settings(home)
        add_users(settings)
        rows = measure(settings, max(1, args.repeat))
        print_table(rows, args.docs)
        if args.json:
            args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        return rows
    finally:
        if made and not args.keep:
            shutil.rmtree(home.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

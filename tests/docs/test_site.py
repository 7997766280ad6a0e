"""The documentation site: ``mkdocs build --strict`` passes (no warning), takes its screenshots from the
browser tests (and fails without them), holds no external URL, and ``dossier serve`` serves it at /docs
under the app's CSP (with the documented relaxation for the manual's own inline scripts)."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from foundation.config import load_settings
from tests.docs._manual import build_site, screenshot_names
from webui import create_app
from webui.docs_site import script_hashes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs-site")
    built = build_site(root / "site", root / "shots")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING" not in built.stderr + built.stdout
    return root / "site"


def test_the_site_builds_with_every_page_and_the_screenshots(site):
    for page in (
        "index.html",
        "guide/search.html",
        "admin/install.html",
        "reference/api.html",
        "design/search.html",
    ):
        assert (site / page).is_file(), page
    names = screenshot_names()
    assert len(names) >= 4, "the user's guide shows the product"
    for name in names:
        assert (site / "screenshots" / name).is_file()
    assert (site / "search" / "search_index.json").is_file()
    assert not (site / "_hooks").exists()


def test_a_missing_screenshot_fails_the_build(tmp_path):
    built = build_site(tmp_path / "site", tmp_path / "no-shots", placeholders=False)
    assert built.returncode != 0
    assert "make screenshots" in built.stderr + built.stdout


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "data", "poster", "formaction") and value:
                self.urls.append(f"<{tag} {name}={value}>")


def test_nothing_is_fetched_from_elsewhere(site):
    """Air-gapped: no Google fonts, no CDN, no link out — in any page, stylesheet or the search index."""
    outside = re.compile(r"^\s*(https?:)?//", re.I)
    found = []
    for page in site.rglob("*.html"):
        parser = _Urls()
        parser.feed(page.read_text(encoding="utf-8"))
        found += [f"{page.relative_to(site)}: {u}" for u in parser.urls if outside.match(u.split("=", 1)[1])]
    for sheet in site.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8")
        found += [
            f"{sheet.name}: {m}"
            for m in re.findall(r"(?:url\(|@import)\s*['\"]?(?:https?:)?//[^)'\"]+", text)
        ]
    assert found == []
    everything = "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in site.rglob("*.*")
        if p.suffix in (".html", ".css", ".js")
    )
    assert "fonts.googleapis" not in everything and "fonts.gstatic" not in everything


@pytest.fixture(scope="module")
def served(site, tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("docs-serve-home")
    settings = load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=Path("/nonexistent"))
    app = create_app(settings, test_config={"TESTING": True, "DOCS_SITE": str(site)})
    return app.test_client()


def test_dossier_serve_serves_the_manual_at_docs(served, site):
    assert served.get("/docs").status_code == 308
    page = served.get("/docs/")
    assert page.status_code == 200 and "Dossier" in page.get_data(as_text=True)
    guide = served.get("/docs/guide/search.html")
    assert guide.status_code == 200
    assert served.get("/docs/search/search_index.json").status_code == 200
    assert served.get("/docs/no-such-page.html").status_code == 404
    assert served.get("/docs/../README.md").status_code == 404


def test_the_manual_pages_keep_the_strict_csp_but_for_their_own_inline_scripts(served, site):
    html = (site / "guide" / "search.html").read_bytes()
    policy = served.get("/docs/guide/search.html").headers["Content-Security-Policy"]
    inline = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    assert inline, "Material writes inline scripts"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert script_hashes(html) and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "style-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "img-src 'self' data:;" in policy
    # files other than pages, and every other page of the app, keep the app's policy unchanged
    asset = next(p for p in (site / "assets" / "javascripts").glob("bundle.*.js"))
    assert (
        "script-src 'self';"
        in served.get(f"/docs/assets/javascripts/{asset.name}").headers["Content-Security-Policy"]
    )


def test_dossier_docs_dir_names_the_site_served(site, tmp_path):
    """DOSSIER_DOCS_DIR (the docker compose stack mounts a site built on the host there) is the folder /docs serves;
    an empty folder there (a mount of nothing) reads as not built."""
    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_DOCS_DIR": str(site)},
        dotenv=Path("/nonexistent"),
    )
    client = create_app(settings, test_config={"TESTING": True}).test_client()
    assert client.get("/docs/guide/search.html").status_code == 200
    (tmp_path / "empty").mkdir()
    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_DOCS_DIR": str(tmp_path / "empty")},
        dotenv=Path("/nonexistent"),
    )
    client = create_app(settings, test_config={"TESTING": True}).test_client()
    assert client.get("/docs/").status_code == 404


@pytest.mark.parametrize(("lang", "title"), [("zh", "手册尚未构建"), ("en", "The manual is not built yet")])
def test_without_a_built_site_docs_says_how_to_build_it(tmp_path, lang, title):
    settings = load_settings(environ={"DOSSIER_HOME": str(tmp_path)}, dotenv=Path("/nonexistent"))
    app = create_app(settings, test_config={"TESTING": True, "DOCS_SITE": str(tmp_path / "nothing")})
    page = app.test_client().get(f"/docs/?lang={lang}")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert title in text and "make docs" in text


def test_the_readme_starts_with_the_two_commands_and_its_links_resolve():
    from tests.docs._manual import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 15
    assert [link for link in links if not link.startswith("http") and not (ROOT / link).is_file()] == []
    assert "make docs" in readme and "/api/openapi.json" in readme

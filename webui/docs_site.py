"""The manual (``make docs``: MkDocs + Material, built into ``build/site``) served at ``/docs``.

Routes: ``GET /docs`` and ``GET /docs/<path>``: the built site's files, to anyone (the manual holds
no customer data, and the login page links to it), so an air-gapped office reads it where Dossier
runs.  While the site is not built, ``/docs`` answers 404 with a page that says how to build it.

The CSP stays the app's strict one with two documented relaxations, for the manual's HTML pages only:

- Material for MkDocs writes two small inline ``<script>`` blocks into every page (the site's base URL,
  and the anchor fix-up), which ``script-src 'self'`` would block.  Instead of ``'unsafe-inline'``, each
  HTML page is sent with the sha256 hashes of exactly its own inline scripts in ``script-src`` — a script
  injected anywhere else still cannot run;
- its icons (search results, admonitions) are ``data:`` SVG images: ``img-src 'self' data:`` (an image
  runs no script).

Every other directive and header (no inline styles, no framing, ``nosniff`` …) is unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, send_from_directory

bp = Blueprint("docs_site", __name__)

#: Where ``make docs`` (``mkdocs build``, ``site_dir`` of mkdocs.yml) writes the site.
DEFAULT_SITE = Path(__file__).resolve().parents[1] / "build" / "site"

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def site_dir() -> Path:
    """The built site's folder: ``app.config["DOCS_SITE"]`` (``DOSSIER_DOCS_DIR``, or a test's), else :data:`DEFAULT_SITE`."""
    return Path(current_app.config.get("DOCS_SITE") or DEFAULT_SITE)


def script_hashes(html: bytes) -> tuple[str, ...]:
    """The CSP source expressions (``'sha256-…'``) of the inline scripts of an HTML page."""
    return tuple(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )


@lru_cache(maxsize=256)
def _hashes(path: str, mtime_ns: int) -> tuple[str, ...]:
    return script_hashes(Path(path).read_bytes())


def page_policy(policy: str, path: Path) -> str:
    """The CSP of one built HTML page: the app's ``policy``, with the page's own inline scripts' hashes and
    data: images allowed."""
    hashes = _hashes(str(path), path.stat().st_mtime_ns)
    policy = policy.replace("script-src 'self'", " ".join(("script-src 'self'", *hashes)), 1)
    return policy.replace("img-src 'self'", "img-src 'self' data:", 1)


@bp.after_app_request
def _relax_for_the_manual(response: Response) -> Response:
    """Runs after the app's own security headers (registered before them, so called after): relaxes the
    policy they set, for a manual page only."""
    page = g.get("docs_page")
    policy = response.headers.get("Content-Security-Policy")
    if page is not None and policy:
        response.headers["Content-Security-Policy"] = page_policy(policy, page)
    return response


@bp.get("/docs")
def root() -> Any:
    """The manual's start page (relative links inside it need the trailing slash)."""
    return redirect("/docs/", code=308)


@bp.get("/docs/", defaults={"path": "index.html"})
@bp.get("/docs/<path:path>")
def page(path: str) -> Any:
    """One file of the built site; the not-built page while there is no site."""
    folder = site_dir()
    if not (folder / "index.html").is_file():
        return render_template("docs_site/not_built.html"), 404
    if path.endswith("/"):
        path += "index.html"
    response: Response = send_from_directory(folder, path)
    if path.endswith(".html"):
        target = (folder / path).resolve()
        if not target.is_relative_to(folder.resolve()):
            abort(404)
        g.docs_page = target
    return response

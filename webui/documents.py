"""One document: its details, status, entities, text page by page, versions; and its original file.

Routes: ``GET /documents/<id>`` (``?q=`` highlights the search terms), ``GET /documents/<id>/download``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, g, render_template, request
from markupsafe import Markup

import index
from dossier.errors import DossierError
from webui.auth import login_required
from webui.core import get_dossier

bp = Blueprint("documents", __name__, url_prefix="/documents")

#: Types a browser might run or render in our origin; they are served as plain bytes.
ACTIVE_TYPES = re.compile(r"(html|xml|svg|javascript|ecmascript|xhtml|x-shockwave)", re.I)


def _ascii(text: str) -> str:
    """Text reduced to a conservative ASCII file-name alphabet."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9_()+-]+", "_", text)


def content_disposition(filename: str, fallback_stem: str = "document") -> str:
    """``attachment`` with an ASCII ``filename=`` fallback and an RFC 5987 ``filename*=UTF-8''…``."""
    # No path parts, no control characters, no line breaks: the name is only ever a label.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip() or fallback_stem
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem, ext = _ascii(stem).strip("._-"), _ascii(ext).strip("._-")
    if not re.search(r"[A-Za-z0-9]", stem):
        # Nothing readable survived (an all-Chinese name): a neutral stem keeps the extension.
        stem = fallback_stem
    ascii_name = f"{stem[:120]}.{ext[:10]}" if ext else stem[:120]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _highlighted(text: str, q: str) -> Markup | str:
    """Page text with the search terms in ``<mark>`` (index.highlight escapes everything else)."""
    if not q or not text:
        return text
    try:
        return Markup(index.highlight(text, q))
    except DossierError:  # a query that cannot be parsed just highlights nothing
        return text


@bp.route("/<int:doc_id>")
@login_required
def show(doc_id: int) -> Any:
    """The document page; arriving from a search (``?q=``) highlights the terms in the text."""
    doc = get_dossier().show(doc_id, g.principal)
    q = (request.args.get("q") or "").strip()
    pages = [dict(p, html=_highlighted(p.get("text") or "", q)) for p in doc.get("pages") or []]
    awaiting = sum(1 for p in pages if p.get("needs_ocr"))
    return render_template(
        "documents/show.html",
        doc=doc,
        pages=pages,
        awaiting=awaiting,
        q=q,
    )


@bp.route("/<int:doc_id>/download")
@login_required
def download(doc_id: int) -> Response:
    """The original bytes as an attachment, never rendered inline in our origin."""
    filename, mime, data = get_dossier().open_original(doc_id, g.principal)
    mimetype = "application/octet-stream" if not mime or ACTIVE_TYPES.search(mime) else mime
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, f"document-{doc_id}")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response

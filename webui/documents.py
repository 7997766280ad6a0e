"""One document: its details, status, entities, text page by page, versions; and its original file.

Routes: ``GET /documents/<id>`` (``?q=`` highlights the search terms, ``?mark=PAGE:START:END`` one
entity's place on its page, opened in the viewer), ``GET /documents/<id>/download``, ``GET /documents/<id>/pages/<n>.png``
(a page as a picture), ``GET /documents/<id>/versions/<n>`` (one version's text),
``GET /documents/<id>/versions/<n>/download`` (its file), ``GET /documents/<id>/diff?old=N&new=M``
(a line diff of two versions' texts).  Viewing and downloading are audited (``view``, ``download``,
with the version's number when it is one).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, render_template, request
from markupsafe import Markup

import index
import records
from foundation.errors import DossierError
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


MARK = re.compile(r"^(\d{1,5}):(\d{1,9}):(\d{1,9})$")


def _mark_arg(raw: str | None) -> tuple[int, int, int] | None:
    """``PAGE:START:END`` of ``?mark=`` as ints, or None when absent or malformed."""
    m = MARK.match((raw or "").strip())
    if m is None:
        return None
    page, start, end = (int(x) for x in m.groups())
    return (page, start, end) if start < end else None


def _marked(text: str, start: int, end: int) -> Markup | None:
    """Page text with ``text[start:end]`` in the one ``<mark id="entity-mark">``; None when out of range."""
    if not 0 <= start < end <= len(text):
        return None
    return Markup('{}<mark class="entity-mark" id="entity-mark">{}</mark>{}').format(
        text[:start], text[start:end], text[end:]
    )


@bp.app_template_filter("yuan")
def yuan(value: Any) -> str:
    """A normalised amount as ``¥1,234.00`` (the value itself when it is not a number)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    return f"-¥{-amount:,.2f}" if amount < 0 else f"¥{amount:,.2f}"


def entity_groups(
    mentions: Sequence[Mapping[str, Any]], values: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Entities by kind (``ingest.ENTITY_KINDS`` order first): each value once, with its roles and places.

    ``mentions`` are the document's entity mentions (kind, value, text, page, start, end, valid,
    role); without any, the plain ``{kind: [values]}`` are shown, without places.
    """
    from ingest import ENTITY_KINDS

    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for m in mentions:
        kind, value = str(m.get("kind") or ""), str(m.get("value") or "")
        if not kind or not value:
            continue
        item = groups.setdefault(kind, {}).setdefault(
            value,
            {"value": value, "text": str(m.get("text") or value), "valid": True, "roles": [], "places": []},
        )
        item["valid"] = item["valid"] and m.get("valid", True) is not False
        role = str(m.get("role") or "")
        if role and role not in item["roles"]:
            item["roles"].append(role)
        page = m.get("page")
        if isinstance(page, int) and page not in [p["page"] for p in item["places"]]:
            item["places"].append(
                {"page": page, "mark": f"{page}:{int(m.get('start') or 0)}:{int(m.get('end') or 0)}"}
            )
    if not groups:
        for kind, kind_values in values.items():
            for value in kind_values or ():
                groups.setdefault(kind, {}).setdefault(
                    str(value),
                    {"value": str(value), "text": str(value), "valid": True, "roles": [], "places": []},
                )
    order = [k for k in ENTITY_KINDS if k in groups] + sorted(k for k in groups if k not in ENTITY_KINDS)
    return [{"kind": k, "items": list(groups[k].values())} for k in order]


@bp.route("/<int:doc_id>")
@login_required
def show(doc_id: int) -> Any:
    """The document page; arriving from a search (``?q=``) highlights the terms in the text.

    ``?mark=PAGE:START:END`` (the links of the entity list) marks one entity on its page instead.
    """
    doc = get_dossier().show(doc_id, g.principal)
    q = (request.args.get("q") or "").strip()
    mark = _mark_arg(request.args.get("mark"))
    pages = []
    marked = False
    for p in doc.get("pages") or []:
        text = p.get("text") or ""
        html = _marked(text, mark[1], mark[2]) if mark is not None and p.get("n") == mark[0] else None
        marked = marked or html is not None
        pages.append(dict(p, html=html if html is not None else _highlighted(text, q)))
    awaiting = sum(1 for p in pages if p.get("needs_ocr"))
    d = get_dossier()
    allowed = d.documents.permissions(doc_id, g.principal)
    # The title too: the trail still says what was seen after the document is deleted.
    d.audit.record(
        g.principal.username,
        "view",
        target_type="document",
        target_id=doc_id,
        detail={"title": doc.get("title"), **({"q": q} if q else {})},
    )
    return render_template(
        "documents/show.html",
        doc=doc,
        pages=pages,
        awaiting=awaiting,
        q=q,
        marked=marked,
        allowed=allowed,
        scan=is_scan(pages, has_images=allowed["pages"]),
        start_page=mark[0] if marked and mark is not None else None,
        entity_groups=entity_groups(doc.get("entity_mentions") or [], doc.get("entities") or {}),
        customer_links=_customer_links(doc),
    )


def is_scan(pages: Sequence[Mapping[str, Any]], *, has_images: bool) -> bool:
    """A scan: its pages are pictures (``has_images``) whose text came, or is still to come, from OCR.

    The viewer shows a scan's page pictures first and its recognised text beside them.
    """
    return has_images and any(p.get("ocr") or p.get("needs_ocr") for p in pages)


def _customer_links(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The linked customers with how they were linked; bare names (no page to link) before links exist."""
    links = [dict(link) for link in doc.get("customer_links") or [] if link.get("name")]
    if links:
        return links
    return [
        {"id": None, "name": name, "method": None, "evidence": None} for name in doc.get("customers") or []
    ]


@bp.route("/<int:doc_id>/download")
@login_required
def download(doc_id: int) -> Response:
    """The original bytes as an attachment, never rendered inline in our origin.

    An original that is missing, fails its checksum or cannot be decrypted is never served:
    the error page (JSON under ``/api``) answers 500 with the reason, and the log says which.
    """
    return send_original(doc_id)


@bp.route("/<int:doc_id>/versions/<int:number>/download")
@login_required
def version_download(doc_id: int, number: int) -> Response:
    """The original file of version ``number``, as :func:`download` sends the current one."""
    return send_original(doc_id, number)


def send_original(doc_id: int, number: int | None = None) -> Response:
    """The original of the document (``number`` None: its current version) as a safe attachment; audited."""
    d = get_dossier()
    try:
        if number is None:
            filename, mime, data = d.open_original(doc_id, g.principal)
        else:
            filename, mime, data = d.reading.open_version(doc_id, number, g.principal)
    except (records.BlobMissing, records.BlobCorrupt) as exc:
        current_app.logger.error("download of document %s refused: %s", doc_id, exc.message)
        raise
    d.audit.record(
        g.principal.username,
        "download",
        target_type="document",
        target_id=doc_id,
        detail={"filename": filename, "size": len(data), **({"version": number} if number else {})},
    )
    mimetype = "application/octet-stream" if not mime or ACTIVE_TYPES.search(mime) else mime
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, f"document-{doc_id}")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:doc_id>/versions/<int:number>")
@login_required
def version(doc_id: int, number: int) -> Any:
    """One version of the document: its details and its text (a search's ``?q=`` highlighted)."""
    d = get_dossier()
    found = d.reading.version(doc_id, number, g.principal)
    q = (request.args.get("q") or "").strip()
    pages = [dict(p, html=_highlighted(p.get("text") or "", q)) for p in found["pages"]]
    d.audit.record(
        g.principal.username,
        "view",
        target_type="document",
        target_id=doc_id,
        detail={"title": found["title"], "version": number, **({"q": q} if q else {})},
    )
    return render_template(
        "documents/version.html",
        v=found,
        pages=pages,
        q=q,
        doc_id=doc_id,
        images=False,  # page pictures are drawn from the current version only
        scan=False,
        start_page=None,
        marked=False,
        versions=d.reading.versions(doc_id, g.principal),
        allowed=d.documents.permissions(doc_id, g.principal),
    )


@bp.route("/<int:doc_id>/diff")
@login_required
def diff(doc_id: int) -> Any:
    """A line diff of two versions' texts (``?old=N&new=M``; by default the one before the current and the current)."""
    d = get_dossier()
    versions = d.reading.versions(doc_id, g.principal)
    numbers = [v["n"] for v in versions]
    new = _version_arg("new", numbers[-1] if numbers else 1)
    old = _version_arg("old", numbers[-2] if len(numbers) > 1 else new)
    compared = d.reading.version_diff(doc_id, old, new, g.principal)
    d.audit.record(
        g.principal.username,
        "view",
        target_type="document",
        target_id=doc_id,
        detail={"version": new, "compared_with": old},
    )
    return render_template("documents/diff.html", diff=compared, versions=versions, doc_id=doc_id)


def _version_arg(name: str, default: int) -> int:
    raw = (request.args.get(name) or "").strip()
    return int(raw) if raw.isdigit() else default


@bp.route("/<int:doc_id>/pages/<int:number>.png")
@login_required
def page_image(doc_id: int, number: int) -> Response:
    """Page ``number`` of a PDF or scanned document as a PNG (404 when the user may not read it)."""
    png = get_dossier().documents.page_image(doc_id, number, g.principal)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response

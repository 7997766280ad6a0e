"""First-page thumbnails of the search hits: ``GET /documents/<id>/thumbnail.png``.

The reader's right to the document is checked on every request (404 when they may not read it, as for page
images), also when the picture is cached or the browser already holds it; the answer is ``private`` with an
ETag, so a repeat view is a 304 without a body.  Thumbnails are not audited as views (see
:mod:`dossier.app.thumbnails`).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from webui.auth import login_required
from webui.core import get_dossier

bp = Blueprint("thumbnails", __name__)


@bp.route("/documents/<int:doc_id>/thumbnail.png")
@login_required
def thumbnail(doc_id: int) -> Response:
    """The document's first page, small (a 304 when the browser's copy is current)."""
    known = next(iter(request.if_none_match), None) if request.if_none_match else None
    picture = get_dossier().thumbnails.thumbnail(doc_id, g.principal, known=known)
    response = Response(status=304) if picture.png is None else Response(picture.png, mimetype="image/png")
    response.set_etag(picture.etag)
    # Kept by the user's own browser only, and asked for again each time (the permission check runs then).
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie"
    return response

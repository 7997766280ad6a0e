"""Autocomplete for the customer and tag fields: ``GET /api/suggest?field=customer|tag|ctag&q=&limit=``.

Answers ``{"field", "q", "status", "suggestions": [{"value", "match", "kind", "label", "customer_id"?}]}``, best first
(:func:`dossier.app.suggest.suggest`: only what the signed-in user may see).  ``limit`` defaults
to 10, at most 20; an unknown field or a fragment over 64 characters is a 400 with what to do.
The browser side is ``static/autocomplete.js`` (an input with ``data-suggest="customer"``,
``"tag"``, ``"ctag"`` or ``"search"``; ``label`` is the kind in the reader's language, ``status``
the sentence a screen reader hears).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, request

from dossier.app.suggest import MAX_LIMIT, suggest
from webui.core import get_dossier
from webui.i18n import gettext as _

bp = Blueprint("suggest", __name__, url_prefix="/api")


@bp.route("/suggest")
def suggestions() -> Any:
    """Suggestions for one typed fragment, permission-checked."""
    if g.get("principal") is None:
        abort(401)
    field = (request.args.get("field") or "customer").strip()
    query = request.args.get("q") or ""
    raw_limit = (request.args.get("limit") or "").strip()
    limit = min(int(raw_limit), MAX_LIMIT) if raw_limit.isdigit() else 10
    with get_dossier().sessions() as session:
        found = suggest(session, g.principal, field, query, limit)
    labels = {
        "name": _("suggest.kind.name"),
        "alias": _("suggest.kind.alias"),
        "tag": _("suggest.kind.tag"),
        "ctag": _("suggest.kind.ctag"),
    }
    return jsonify(
        {
            "field": field,
            "q": query,
            "suggestions": [dict(s.as_dict(), label=labels[s.kind]) for s in found],
            # What a screen reader announces when the list opens (the script shows it in a live region).
            "status": _("suggest.count", n=len(found)) if found else _("suggest.none"),
        }
    )

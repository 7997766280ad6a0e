"""Activities, comments and the customer timeline on the web (沟通记录、评论、客户时间线), and their JSON API.

Pages: the customer page shows the timeline (``?tl_kind=&tl_page=``) and a form to log an
activity (``POST /customers/<id>/activities``); the document page lists its comments with a form
(``POST /documents/<id>/comments``); ``POST /activities/<id>/edit`` changes one and
``POST /activities/<id>/delete`` deletes one (author, manager, admin).  ``GET /customers/<id>/timeline`` is the timeline on a page of its own.  Every form
carries the session's CSRF token (checked for every POST, :mod:`webui.auth`).

API (the CSRF token in ``X-CSRF-Token`` for writes, or an API token):
``POST /api/activities`` (JSON ``kind``, ``customer`` (id or name), ``document``, ``occurred_at``,
``contacts``, ``subject``, ``body``, ``next_step``, ``confidentiality``; 201 with the activity),
``GET /api/activities?customer=&document=&kind=&page=&per_page=`` (``{"items", "total", "page",
"pages"}``), ``GET``/``PATCH``/``DELETE /api/activities/<id>`` and
``GET /api/customers/<id>/timeline?kind=&page=&per_page=``.  Errors are ``{"error": message}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from dossier.app import folder
from foundation.errors import DossierError
from records import ACTIVITY_KINDS, Customer
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import localized, say
from webui.timefmt import utc_from_local

__all__ = ["api", "bp"]

bp = Blueprint("activities", __name__)
api = Blueprint("activities_api", __name__, url_prefix="/api")

#: Kinds offered by the customer page's form (a comment is made on the document page).
FORM_KINDS = tuple(k for k in ACTIVITY_KINDS if k != "comment")
LEVELS = ("public", "internal", "confidential", "finance")
#: Timeline items per page on the web.
TIMELINE_PAGE = 50


def _int(raw: str | None, default: int) -> int:
    value = (raw or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


# -- template helpers: the customer page and the document page include these ----------------------


@bp.app_template_global()
def customer_timeline(customer_id: int) -> dict[str, Any]:
    """The timeline page the customer page shows (``?tl_kind=&tl_page=``), with what its form offers."""
    kind = (request.args.get("tl_kind") or "").strip() or None
    page = _int(request.args.get("tl_page"), 1)
    d = get_dossier()
    try:
        found = d.timeline(g.principal, customer_id, kind, page, TIMELINE_PAGE)
    except DossierError as exc:
        if exc.status != 400:
            raise
        found = d.timeline(g.principal, customer_id, None, 1, TIMELINE_PAGE)
        kind = None
    may_log = g.principal.role in ("admin", "manager", "finance") or (
        g.principal.role == "sales" and customer_id in _owned()
    )
    return {**found, "kind": kind, "may_log": may_log, "kinds_offered": FORM_KINDS, "levels": LEVELS}


@bp.app_template_global()
def tl_url(kind: str | None, page: int) -> str:
    """This page's URL showing the timeline's ``kind`` filter and ``page`` (other arguments kept)."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("tl_kind", "tl_page")}
    if kind:
        args["tl_kind"] = kind
    if page > 1:
        args["tl_page"] = str(page)
    return url_for(str(request.endpoint), **(request.view_args or {}), **args, _anchor="timeline")


def _owned() -> frozenset[int]:
    with get_dossier().sessions() as session:
        return folder.owned_customer_ids(session, g.principal)


@bp.app_template_global()
def document_comments(doc_id: int) -> dict[str, Any]:
    """The comments on a document the viewer may read, newest first, and whether they may comment."""
    found = get_dossier().activities.list(g.principal, document=doc_id, kind="comment", per_page=200)
    return {**found, "may_comment": g.principal.role != "viewer", "levels": LEVELS}


# -- forms --------------------------------------------------------------------------------------


def _contacts_from_form() -> list[str]:
    names = [v for v in request.form.getlist("contacts") if v.strip()]
    extra = request.form.get("contacts_other", "")
    names += [n for n in extra.replace("，", ",").replace("、", ",").split(",") if n.strip()]
    return names


@bp.route("/customers/<int:customer_id>/activities", methods=("POST",))
@login_required
def log_activity(customer_id: int) -> Any:
    """Log an activity from the customer page's form; back to the timeline with what happened."""
    form = request.form
    try:
        made = get_dossier().activities.add(
            g.principal,
            kind=form.get("kind", "note"),
            customer=customer_id,
            occurred_at=utc_from_local(form.get("occurred_at")) or None,  # typed in the team's zone
            contacts=_contacts_from_form(),
            subject=form.get("subject", ""),
            body=form.get("body", ""),
            next_step=form.get("next_step") or None,
            confidentiality=form.get("confidentiality") or None,
        )
    except DossierError as exc:
        if exc.status not in (400, 403):
            raise
        flash(say(exc), "error")
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="timeline"), code=303)
    flash(_("activity.logged"), "info")
    return redirect(
        url_for("customers.show", customer_id=customer_id, _anchor=f"activity-{made['id']}"), code=303
    )


@bp.route("/documents/<int:doc_id>/comments", methods=("POST",))
@login_required
def comment(doc_id: int) -> Any:
    """Comment on a document from its page."""
    try:
        made = get_dossier().activities.comment(
            g.principal,
            doc_id,
            request.form.get("body", ""),
            confidentiality=request.form.get("confidentiality") or None,
        )
    except DossierError as exc:
        if exc.status not in (400, 403):
            raise
        flash(say(exc), "error")
        return redirect(url_for("documents.show", doc_id=doc_id, _anchor="comments"), code=303)
    flash(_("activity.commented"), "info")
    return redirect(url_for("documents.show", doc_id=doc_id, _anchor=f"comment-{made['id']}"), code=303)


@bp.route("/activities/<int:activity_id>/delete", methods=("POST",))
@login_required
def delete(activity_id: int) -> Any:
    """Delete an activity or comment (its author, a manager or an admin); back where it was shown."""
    d = get_dossier()
    shown = d.activities.get(g.principal, activity_id)
    d.activities.delete(g.principal, activity_id)
    flash(_("activity.deleted"), "info")
    if shown["kind"] == "comment" and shown["document"]:
        return redirect(
            url_for("documents.show", doc_id=shown["document"]["id"], _anchor="comments"), code=303
        )
    if shown["customer"]:
        return redirect(
            url_for("customers.show", customer_id=shown["customer"]["id"], _anchor="timeline"), code=303
        )
    return redirect(url_for("search.index"), code=303)


@bp.route("/activities/<int:activity_id>/edit", methods=("POST",))
@login_required
def edit(activity_id: int) -> Any:
    """Change an activity's subject, text, next step or level from the timeline (author, manager, admin)."""
    d = get_dossier()
    shown = d.activities.get(g.principal, activity_id)
    form = request.form
    changes = {
        k: form[k] for k in ("subject", "body", "next_step", "confidentiality", "occurred_at") if form.get(k)
    }
    if "occurred_at" in changes:
        changes["occurred_at"] = utc_from_local(changes["occurred_at"]) or ""
    if shown["kind"] == "comment" and shown["document"]:
        back = url_for("documents.show", doc_id=shown["document"]["id"], _anchor=f"comment-{activity_id}")
    elif shown["customer"]:
        back = url_for(
            "customers.show", customer_id=shown["customer"]["id"], _anchor=f"activity-{activity_id}"
        )
    else:
        back = url_for("search.index")
    try:
        d.activities.edit(g.principal, activity_id, **changes)
    except DossierError as exc:
        if exc.status not in (400, 403):
            raise
        flash(say(exc), "error")
        return redirect(back, code=303)
    flash(_("activity.edited"), "info")
    return redirect(back, code=303)


@bp.route("/customers/<int:customer_id>/timeline")
@login_required
def timeline_page(customer_id: int) -> Any:
    """The customer timeline on a page of its own (with the form to log an activity)."""
    tl = customer_timeline(customer_id)  # NotFound for an unknown customer, as the customer page
    with get_dossier().sessions() as session:
        customer = session.get(Customer, customer_id)
        contacts = [c for c in (customer.contacts or []) if isinstance(c, dict)] if customer else []
    return render_template("activities/timeline.html", tl=tl, customer_id=customer_id, contacts=contacts)


# -- API ----------------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.is_json else None
    if body is None and not request.is_json:
        return request.form.to_dict()
    if not isinstance(body, dict):
        abort(400, description=_("web.api.activity_json"))
    return body


def _contacts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    abort(400, description=_("web.api.activity_json"))


@api.route("/activities", methods=("POST",))
@login_required
def api_add() -> Any:
    """Log an activity or comment: 201 with it."""
    body = _body()
    document = body.get("document") if body.get("document") not in ("", None) else body.get("document_id")
    if document not in (None, "") and not str(document).strip().isdigit():
        abort(400, description=_("web.api.activity_document"))
    made = get_dossier().activities.add(
        g.principal,
        kind=str(body.get("kind") or "note"),
        customer=body.get("customer") if body.get("customer") not in (None, "") else body.get("customer_id"),
        document=int(document) if document not in (None, "") else None,
        occurred_at=body.get("occurred_at"),
        contacts=_contacts(body.get("contacts")),
        subject=str(body.get("subject") or ""),
        body=str(body.get("body") or ""),
        next_step=body.get("next_step"),
        confidentiality=body.get("confidentiality"),
    )
    return jsonify(localized(made)), 201


@api.route("/activities")
@login_required
def api_list() -> Any:
    """Activities the caller may read, newest first: ``{"items", "total", "page", "pages"}``."""
    document = (request.args.get("document") or "").strip()
    if document and not document.isdigit():
        abort(400, description=_("web.api.activity_document"))
    return jsonify(
        localized(
            get_dossier().activities.list(
                g.principal,
                customer=(request.args.get("customer") or "").strip() or None,
                document=int(document) if document else None,
                kind=(request.args.get("kind") or "").strip() or None,
                page=_int(request.args.get("page"), 1),
                per_page=_int(request.args.get("per_page"), 50),
            )
        )
    )


@api.route("/activities/<int:activity_id>")
@login_required
def api_get(activity_id: int) -> Any:
    """One activity; 404 when unknown or not readable."""
    return jsonify(localized(get_dossier().activities.get(g.principal, activity_id)))


@api.route("/activities/<int:activity_id>", methods=("PATCH",))
@login_required
def api_edit(activity_id: int) -> Any:
    """Change an activity's fields (author, manager, admin)."""
    body = _body()
    changes = {
        k: body[k]
        for k in ("kind", "occurred_at", "contacts", "subject", "body", "next_step", "confidentiality")
        if k in body
    }
    if "contacts" in changes:
        changes["contacts"] = _contacts(changes["contacts"])
    unknown = sorted(set(body) - set(changes))
    if unknown:
        abort(400, description=_("web.api.activity_fields", fields=", ".join(unknown)[:200]))
    return jsonify(localized(get_dossier().activities.edit(g.principal, activity_id, **changes)))


@api.route("/activities/<int:activity_id>", methods=("DELETE",))
@login_required
def api_delete(activity_id: int) -> Any:
    """Delete an activity (author, manager, admin)."""
    return jsonify(localized(get_dossier().activities.delete(g.principal, activity_id)))


@api.route("/customers/<int:customer_id>/timeline")
@login_required
def api_timeline(customer_id: int) -> Any:
    """One page of a customer's timeline: ``{"customer", "items", "total", "page", "pages", "kinds"}``."""
    kinds = [k for k in request.args.getlist("kind") if k.strip()] or None
    return jsonify(
        localized(
            get_dossier().timeline(
                g.principal,
                customer_id,
                kinds,
                _int(request.args.get("page"), 1),
                _int(request.args.get("per_page"), 50),
            )
        )
    )

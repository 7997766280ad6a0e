"""The retention page (保留与销毁): the destruction queue, retention rules and legal holds, for managers and admins.

Routes: ``GET /retention`` (the page), ``POST /retention/<id>/approve`` (needs the ``confirm``
box ticked), ``POST /retention/<id>/reject``, ``POST /retention/propose``, ``POST /retention/rules``,
``POST /retention/rules/<id>/remove``, ``POST /retention/hold`` (``document`` or ``customer``,
``reason``, ``release=1`` to release).  Every POST carries the CSRF token; anyone but a manager or
admin gets 404 for the page and 403 for the actions (the service checks again).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dossier.app.permissions import MANAGE_ROLES
from foundation.errors import DossierError
from foundation.vocabulary import CUSTOMER_TYPE_NAMES
from ingest import DOC_TYPES
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("retention", __name__, url_prefix="/retention")


def _back() -> Any:
    return redirect(url_for("retention.index"))


def _done(work: Any, ok: str, **params: Any) -> Any:
    """Run ``work``; flash ``ok`` or the refusal's message (a DossierError), then back to the page."""
    try:
        work()
    except DossierError as exc:
        if exc.status in (403, 404) and g.principal.role not in MANAGE_ROLES:
            raise
        flash(say(exc), "error")
    else:
        flash(_(ok, **params), "info")
    return _back()


@bp.route("")
@login_required
def index() -> Any:
    """The queue (open entries first), the rules and the holds."""
    if g.principal.role not in MANAGE_ROLES:
        abort(404)
    r = get_dossier().retention
    return render_template(
        "retention/index.html",
        queue=r.queue(),
        rules=r.rules(),
        holds=r.holds(),
        doc_types=list(DOC_TYPES),
        customer_types=CUSTOMER_TYPE_NAMES,
    )


@bp.route("/<int:destruction_id>/approve", methods=("POST",))
@login_required
def approve(destruction_id: int) -> Any:
    """Approve a destruction (the workers carry it out, or it is carried out now); the proposer may not (two people)."""
    if request.form.get("confirm") != "1":
        flash(_("retention.confirm_needed"), "error")
        return _back()
    r = get_dossier().retention
    try:
        row = r.approve(destruction_id, g.principal)
    except DossierError as exc:
        if exc.status in (403, 404) and g.principal.role not in MANAGE_ROLES:
            raise
        flash(say(exc), "error")
    else:
        if row["status"] == "destroyed":
            flash(_("retention.approved", id=destruction_id), "info")
        else:
            flash(_("retention.approved_queued", id=destruction_id), "info")
    return _back()


@bp.route("/<int:destruction_id>/reject", methods=("POST",))
@login_required
def reject(destruction_id: int) -> Any:
    """Reject a proposal (its proposer withdrawing it cancels it)."""
    r = get_dossier().retention
    reason = request.form.get("reason", "").strip() or None
    return _done(
        lambda: r.reject(destruction_id, g.principal, reason=reason), "retention.rejected", id=destruction_id
    )


@bp.route("/propose", methods=("POST",))
@login_required
def propose() -> Any:
    """Propose a document for destruction by hand."""
    raw = request.form.get("document", "").strip()
    if not raw.isdigit():
        flash(_("retention.bad_document", value=raw[:20]), "error")
        return _back()
    r = get_dossier().retention
    reason = request.form.get("reason", "").strip() or None
    return _done(lambda: r.propose(int(raw), g.principal, reason=reason), "retention.proposed", id=raw)


@bp.route("/rules", methods=("POST",))
@login_required
def add_rule() -> Any:
    """Add a retention rule from the form."""
    f = request.form
    r = get_dossier().retention
    return _done(
        lambda: r.add_rule(
            g.principal,
            name=f.get("name", ""),
            doc_type=f.get("doc_type") or None,
            customer_type=f.get("customer_type") or None,
            basis=f.get("basis", "doc_date"),
            archive_after=f.get("archive_after") or None,
            destroy_after=f.get("destroy_after") or None,
        ),
        "retention.rule_added",
        name=f.get("name", "")[:200],
    )


@bp.route("/rules/<int:rule_id>/remove", methods=("POST",))
@login_required
def remove_rule(rule_id: int) -> Any:
    """Remove a retention rule."""
    r = get_dossier().retention
    return _done(lambda: r.remove_rule(rule_id, g.principal), "retention.rule_removed", id=rule_id)


@bp.route("/hold", methods=("POST",))
@login_required
def hold() -> Any:
    """Set or (``release=1``) release a legal hold on a document (``document``) or a customer (``customer``)."""
    f = request.form
    document = f.get("document", "").strip()
    customer = f.get("customer", "").strip()
    if bool(document) == bool(customer) or (document and not document.isdigit()):
        flash(_("retention.hold_target"), "error")
        return _back()
    on = f.get("release") != "1"
    r = get_dossier().retention
    return _done(
        lambda: r.set_hold(
            g.principal,
            document_id=int(document) if document else None,
            customer=customer or None,
            reason=f.get("reason"),
            hold=on,
        ),
        "retention.hold_set" if on else "retention.hold_released",
    )

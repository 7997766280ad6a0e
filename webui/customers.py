"""The customer folder: the registry as a filterable list, and one page per customer.

Routes: ``GET /customers`` (``?type=&industry=&region=&owner=&q=``; admins and managers also
see the suggested customers with their actions), ``GET /customers/<id>`` (the folder),
``POST /customers/<id>/confirm``, ``POST /customers/<id>/reject`` and
``POST /customers/<id>/merge`` (form field ``into``: the customer it merges into).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dossier import folder
from dossier.errors import Forbidden
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _

bp = Blueprint("customers", __name__, url_prefix="/customers")

#: Roles that review suggested customers (confirm, reject, merge).
REVIEW_ROLES = folder.READ_ALL_ROLES

#: The list's filters: query parameter -> ``list_customers`` keyword.
FILTERS = {"type": "customer_type", "industry": "industry", "region": "region", "owner": "owner"}


def may_review() -> bool:
    """Whether the signed-in user may confirm, reject and merge suggested customers."""
    return g.principal is not None and g.principal.role in REVIEW_ROLES


def _ensure_may_review() -> None:
    if not may_review():
        raise Forbidden(_("customers.review_forbidden"))


@bp.route("")
@login_required
def index() -> Any:
    """The registry's confirmed customers, filtered; the suggested ones for reviewers."""
    chosen = {param: (request.args.get(param) or "").strip() for param in FILTERS}
    text = (request.args.get("q") or "").strip()
    reviewer = may_review()
    with get_dossier().sessions() as session:
        customers = folder.list_customers(
            session, g.principal, text=text, **{FILTERS[p]: v or None for p, v in chosen.items()}
        )
        options = folder.filter_options(session)
        suggested: list[dict[str, Any]] = []
        targets: list[dict[str, Any]] = []
        if reviewer:
            suggested = folder.list_customers(session, g.principal, status="suggested", text=text)
            if suggested:
                targets = folder.list_customers(session, g.principal)
    return render_template(
        "customers/index.html",
        customers=customers,
        options=options,
        chosen=chosen,
        text=text,
        filtered=bool(text or any(chosen.values())),
        suggested=suggested,
        targets=targets,
        may_review=reviewer,
    )


@bp.route("/<int:customer_id>")
@login_required
def show(customer_id: int) -> Any:
    """One customer's folder: details, contacts, key amounts and dates, documents by type and year."""
    with get_dossier().sessions() as session:
        page = folder.customer_page(session, customer_id, g.principal)
    return render_template(
        "customers/show.html", c=page, undated=folder.UNDATED, may_review=may_review()
    )


def _name_of(customer_id: int) -> str:
    with get_dossier().sessions() as session:
        return folder.customer_names(session, [customer_id]).get(customer_id, f"#{customer_id}")


def _back_to_review() -> Any:
    return redirect(url_for("customers.index", _anchor="suggested"), code=303)


@bp.route("/<int:customer_id>/confirm", methods=("POST",))
@login_required
def confirm(customer_id: int) -> Any:
    """Make a suggested customer a confirmed one."""
    _ensure_may_review()
    name = _name_of(customer_id)
    get_dossier().confirm_customer(customer_id, g.principal)
    flash(_("customers.confirmed", name=name), "info")
    return _back_to_review()


@bp.route("/<int:customer_id>/reject", methods=("POST",))
@login_required
def reject(customer_id: int) -> Any:
    """Reject a suggested customer (it is not suggested again)."""
    _ensure_may_review()
    name = _name_of(customer_id)
    get_dossier().reject_customer(customer_id, g.principal)
    flash(_("customers.rejected", name=name), "info")
    return _back_to_review()


@bp.route("/<int:customer_id>/merge", methods=("POST",))
@login_required
def merge(customer_id: int) -> Any:
    """Merge a suggested customer into an existing one (its documents and names move over)."""
    _ensure_may_review()
    into = (request.form.get("into") or "").strip()
    if not into.isdigit():
        abort(400, description=_("customers.bad_into"))
    into_id = int(into)
    if into_id == customer_id:
        abort(400, description=_("customers.merge_self"))
    name, target = _name_of(customer_id), _name_of(into_id)
    get_dossier().merge_customer(customer_id, into_id, g.principal)
    flash(_("customers.merged", name=name, into=target), "info")
    return redirect(url_for("customers.show", customer_id=into_id), code=303)

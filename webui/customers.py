"""The customer folder: the registry as a filterable list, and one page per customer.

Routes: ``GET /customers`` (``?type=&industry=&region=&owner=&stage=&importance=&tag=&q=&sort=&page=``,
``sort`` one of ``name``, ``last_activity``, ``open_reminders``, ``contract_amount``; admins and managers also
see the suggested customers with their actions, and the registry owner names that match no
account), ``GET /customers/<id>`` (the folder; its documents 50 a page, newest first:
``?page=&type=&year=``, ``type`` a document type and ``year`` a year or 日期不详),
``POST /customers/<id>/confirm``, ``POST /customers/<id>/reject`` and
``POST /customers/<id>/merge`` (form field ``into``: the customer it merges into),
``GET``/``POST /customers/<id>/edit`` (admins and managers edit the registry fields, a sales rep the
contacts, stage, tags and notes of the customers they own; form fields are the import's names,
``aliases`` and ``tags`` as one text each and ``contacts-N-name|title|mobile|landline|email``).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dossier.app import customer_fields, folder
from dossier.app.customer_list import SORTS, customer_list
from dossier.app.owners import unmatched_owners
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.vocabulary import CUSTOMER_TYPE_NAMES
from ingest import DOC_TYPES
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("customers", __name__, url_prefix="/customers")

#: Roles that review suggested customers (confirm, reject, merge).
REVIEW_ROLES = folder.READ_ALL_ROLES

#: The list's filters: query parameter -> ``customer_list`` keyword.
FILTERS = {
    "type": "customer_type",
    "industry": "industry",
    "region": "region",
    "owner": "owner",
    "stage": "stage",
    "importance": "importance",
    "tag": "tag",
}
#: Customers per page of the list.
PAGE_SIZE = 50

#: The edit form's one-line and free-text fields, sent to ``Dossier.customers.update`` under the same names.
TEXT_FIELDS = (
    "name",
    "credit_code",
    "customer_type",
    "stage",
    "industry",
    "region",
    "city",
    "address",
    "importance",
    "owner_name",
    "notes",
    "tags",
)

#: The registry's customer types (value, label message id) and importance grades, for the selects.
CUSTOMER_TYPES = tuple(
    zip(
        CUSTOMER_TYPE_NAMES,
        ("customers.type.prospect", "customers.type.current", "customers.type.lost"),
        strict=True,
    )
)
IMPORTANCE = ("A", "B", "C")

CONTACT_KEYS = ("name", "title", "mobile", "landline", "email")
_CONTACT_FIELD = re.compile(r"contacts-(\d{1,4})-(name|title|mobile|landline|email)")
#: Blank contact rows under the existing ones, for adding contacts without a script.
EMPTY_CONTACT_ROWS = 2
#: What separates aliases in the one text field (the hint names the first three).
_ALIAS_SPLIT = re.compile(r"[；;,，、\n]+")


def may_review() -> bool:
    """Whether the signed-in user may confirm, reject and merge suggested customers."""
    return g.principal is not None and g.principal.role in REVIEW_ROLES


def _ensure_may_review() -> None:
    if not may_review():
        raise Forbidden(_("customers.review_forbidden"))


def _sort_labels() -> list[tuple[str, str]]:
    """The list's sorts (``customer_list``'s SORTS) with their labels in the reader's language."""
    labels = {
        "name": _("customers.sort.name"),
        "last_activity": _("customers.sort.last_activity"),
        "open_reminders": _("customers.sort.open_reminders"),
        "contract_amount": _("customers.sort.contract_amount"),
    }
    return [(key, labels[key]) for key in SORTS]


def page_number(raw: str | None) -> int:
    """A 1-based page number from a query parameter (anything else reads as 1)."""
    value = (raw or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


@bp.route("")
@login_required
def index() -> Any:
    """The registry's confirmed customers, filtered, sorted and paged; the suggested ones for reviewers."""
    chosen = {param: (request.args.get(param) or "").strip() for param in FILTERS}
    text = (request.args.get("q") or "").strip()
    sort = (request.args.get("sort") or "name").strip()
    page_no = page_number(request.args.get("page"))
    reviewer = may_review()
    with get_dossier().sessions() as session:
        listed = customer_list(
            session,
            g.principal,
            text=text,
            sort=sort,
            offset=(page_no - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            **{FILTERS[p]: v or None for p, v in chosen.items()},
        )
        options = folder.filter_options(session)
        suggested: list[dict[str, Any]] = []
        targets: list[dict[str, Any]] = []
        unmatched = unmatched_owners(session) if reviewer else []
        if reviewer:
            suggested = folder.list_customers(session, g.principal, status="suggested", text=text)
            if suggested:
                targets = folder.list_customers(session, g.principal)
    return render_template(
        "customers/index.html",
        customers=listed["customers"],
        total=listed["total"],
        sort=listed["sort"],
        sorts=_sort_labels(),
        page=page_no,
        pages=max(1, -(-listed["total"] // PAGE_SIZE)),
        options=options,
        chosen=chosen,
        text=text,
        filtered=bool(text or any(chosen.values())),
        suggested=suggested,
        targets=targets,
        may_review=reviewer,
        unmatched_owners=unmatched,
    )


@bp.route("/<int:customer_id>")
@login_required
def show(customer_id: int) -> Any:
    """One customer's folder: details, contacts, key amounts and dates, documents by type and year."""
    doc_type = (request.args.get("type") or "").strip()
    year = (request.args.get("year") or "").strip()
    with get_dossier().sessions() as session:
        page = folder.customer_page(
            session,
            customer_id,
            g.principal,
            page=page_number(request.args.get("page")),
            doc_type=doc_type if doc_type in DOC_TYPES else None,
            year=year if (year.isdigit() and len(year) == 4) or year == folder.UNDATED else None,
        )
        editable = _editable(session, customer_id)
    return render_template(
        "customers/show.html",
        c=page,
        undated=folder.UNDATED,
        may_review=may_review(),
        may_edit=editable != (),
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
    get_dossier().customers.confirm(customer_id, g.principal)
    flash(_("customers.confirmed", name=name), "info")
    return _back_to_review()


@bp.route("/<int:customer_id>/reject", methods=("POST",))
@login_required
def reject(customer_id: int) -> Any:
    """Reject a suggested customer (it is not suggested again)."""
    _ensure_may_review()
    name = _name_of(customer_id)
    get_dossier().customers.reject(customer_id, g.principal)
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
    get_dossier().customers.merge(customer_id, into_id, g.principal)
    flash(_("customers.merged", name=name, into=target), "info")
    return redirect(url_for("customers.show", customer_id=into_id), code=303)


# -- editing a customer -------------------------------------------------------------------------------------


def _editable(session: Any, customer_id: int) -> tuple[str, ...] | None:
    """The fields the signed-in user may edit of the customer: None every field, () none."""
    owned = folder.owned_customer_ids(session, g.principal)
    return customer_fields.editable_fields(g.principal, customer_id, owned)


def _form_from_page(page: dict[str, Any]) -> dict[str, Any]:
    """The edit form's values from the folder's view of the customer."""
    form: dict[str, Any] = {f: page.get(f) or "" for f in TEXT_FIELDS}
    # Where the registry names no rep, the linked user's name keeps that link when saved.
    form["owner_name"] = page.get("owner") or ""
    form["aliases"] = "；".join(page["aliases"])
    form["tags"] = "、".join(page.get("tags") or [])
    form["contacts"] = [dict(c) for c in page["contacts"]]
    return form


def _form_from_request() -> dict[str, Any]:
    """The edit form as posted; contact rows in their order, emptied rows dropped."""
    form: dict[str, Any] = {f: request.form.get(f, "") for f in TEXT_FIELDS}
    form["aliases"] = request.form.get("aliases", "")
    rows: dict[int, dict[str, str]] = {}
    for key, value in request.form.items():
        match = _CONTACT_FIELD.fullmatch(key)
        if match:
            rows.setdefault(int(match.group(1)), dict.fromkeys(CONTACT_KEYS, ""))[match.group(2)] = (
                value.strip()
            )
    form["contacts"] = [rows[i] for i in sorted(rows) if any(rows[i].values())]
    return form


def _fields(form: dict[str, Any], editable: tuple[str, ...] | None) -> dict[str, Any]:
    """``Dossier.customers.update``'s fields from the form (those the user may edit): an empty field clears the value."""
    fields: dict[str, Any] = {f: str(form[f]).strip() for f in TEXT_FIELDS}
    fields["aliases"] = [a.strip() for a in _ALIAS_SPLIT.split(form["aliases"]) if a.strip()]
    fields["contacts"] = [dict(c) for c in form["contacts"]]
    if (
        editable is not None
    ):  # a field the form did not offer but the request sends is refused (403) by the service
        fields = {f: v for f, v in fields.items() if f in editable or f in request.form}
    return fields


def _form_error(form: dict[str, Any]) -> str | None:
    """What the registry would drop silently: a contact row with details but no name."""
    for n, contact in enumerate(form["contacts"], start=1):
        if not contact["name"]:
            return _("customers.edit.contact_no_name", n=n)
    return None


def _render_edit(
    page: dict[str, Any], form: dict[str, Any], editable: tuple[str, ...] | None, error: str | None = None
) -> str:
    return render_template(
        "customers/edit.html",
        c=page,
        form=form,
        full=editable is None,
        max_tags=customer_fields.MAX_TAGS,
        max_tag_chars=customer_fields.MAX_TAG_CHARS,
        contacts=[
            *form["contacts"],
            *(dict.fromkeys(CONTACT_KEYS, "") for _row in range(EMPTY_CONTACT_ROWS)),
        ],
        contact_keys=CONTACT_KEYS,
        customer_types=[(value, _(label)) for value, label in CUSTOMER_TYPES],
        importance=[(grade, grade) for grade in IMPORTANCE],
        error=error,
    )


@bp.route("/<int:customer_id>/edit", methods=("GET", "POST"))
@login_required
def edit(customer_id: int) -> Any:
    """Edit a customer: admins and managers every field, a rep the contacts, stage, tags and notes of their own."""
    with get_dossier().sessions() as session:
        page = folder.customer_page(session, customer_id, g.principal)
        editable = _editable(session, customer_id)
    if editable == ():
        if g.principal.role == "sales":
            raise Forbidden(_("customers.edit.not_yours"))
        raise Forbidden(_("customers.edit.forbidden"))
    if page["status"] == "rejected":  # the registry keeps rejected names only so they are not suggested again
        raise NotFound(_("customers.edit.not_found", id=customer_id))
    if request.method == "GET":
        return _render_edit(page, _form_from_page(page), editable)
    form = _form_from_request()
    error = _form_error(form)
    if error is None:
        try:
            result = get_dossier().customers.update(customer_id, _fields(form, editable), g.principal)
        except DossierError as exc:
            if exc.status != 400:
                raise
            error = say(exc)
        else:
            flash(_("customers.edit.saved", name=result["name"], n=result["reanalysed"]), "info")
            for warning in result["warnings"]:
                flash(_("customers.edit.warning", msg=say(warning)), "warning")
            return redirect(url_for("customers.show", customer_id=customer_id), code=303)
    return _render_edit(page, form, editable, error), 400

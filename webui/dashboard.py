"""The start page (工作台): what ``GET /`` shows with nothing to search for yet.

:func:`start_page` (a template global, used by ``search/index.html``) turns the figures of
:class:`dossier.app.dashboard.Dashboard` into what ``dashboard/_start.html`` shows: the recent
documents, the intake backlog, and the charts (SVG from :mod:`webui.charts`, each with a table
view), every chart element a link to the search — or, for customers and owners, the customer
list — that lists exactly what it counts.
"""

from __future__ import annotations

import calendar
from decimal import Decimal
from typing import Any

from flask import Blueprint, g, url_for

from dossier.app.dashboard import AMOUNT_TYPES, DIMENSIONS
from foundation.vocabulary import CUSTOMER_TYPE_NAMES
from ingest import DOC_TYPES
from webui.charts import PALETTE, Bar, Column, Group, Segment, bars, columns
from webui.core import get_dossier
from webui.i18n import doc_type_label, get_language
from webui.i18n import gettext as _
from webui.intake import READ_ONLY_ROLES

bp = Blueprint("dashboard", __name__)

#: Customer type (as stored) -> its label's message id.
_TYPE_LABELS = dict(
    zip(
        CUSTOMER_TYPE_NAMES,
        (
            "dashboard.customer_type.prospect",
            "dashboard.customer_type.current",
            "dashboard.customer_type.lost",
        ),
        strict=True,
    )
)
#: The search parameter of each amount chart's customer field (the owner has none: the customer list).
_SEARCH_PARAM = {"customer_type": "customer_type", "stage": "stage", "region": "region"}
#: The dimension name's message id.
_DIM_LABELS = {
    "customer_type": "dashboard.dim.customer_type",
    "stage": "dashboard.dim.stage",
    "region": "dashboard.dim.region",
    "owner": "dashboard.dim.owner",
}
#: The customer charts' titles.
_CUSTOMER_TITLES = {
    "customer_type": "dashboard.chart.customers_customer_type",
    "stage": "dashboard.chart.customers_stage",
}
_TYPE_ORDER = {code: i for i, code in enumerate(DOC_TYPES)}


def count_text(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"


def amount_text(value: str | Decimal) -> str:
    """An amount, short: ``¥42万`` / ``¥12.5万`` in Chinese (from 10,000 up), ``¥420,000`` in English."""
    amount = Decimal(str(value))
    if get_language() == "zh" and abs(amount) >= 10000:
        wan = (amount / 10000).quantize(Decimal("0.01"))
        return f"¥{wan:,.2f}".rstrip("0").rstrip(".") + "万"
    if amount == amount.to_integral_value():
        return f"¥{amount:,.0f}"
    return f"¥{amount:,.2f}"


def customer_type_label(value: str) -> str:
    """A stored customer type in the request's language (other values as they are)."""
    message = _TYPE_LABELS.get(value)
    return _(message) if message else value


def _month_bounds(month: str) -> tuple[str, str]:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def month_link(doc_type: str, month: str) -> str:
    """The search for documents of ``doc_type`` dated in ``month`` (``YYYY-MM``)."""
    first, last = _month_bounds(month)
    params: dict[str, Any] = {"type": doc_type, "from": first, "to": last}
    return url_for("search.index", **params)


def amount_link(dimension: str, value: str, doc_type: str) -> str:
    """The search for ``doc_type`` documents of customers with ``value``; for an owner, their customers by amount."""
    if dimension == "owner":
        return url_for("customers.index", owner=value, sort="contract_amount")
    params: dict[str, Any] = {"type": doc_type, _SEARCH_PARAM[dimension]: value}
    return url_for("search.index", **params)


def customers_link(field: str, value: str) -> str:
    """The customer list filtered by type or stage."""
    params: dict[str, Any] = {"type" if field == "customer_type" else "stage": value}
    return url_for("customers.index", **params)


def _month_chart(figures: dict[str, Any]) -> dict[str, Any]:
    months: list[str] = figures["months"]
    counts: dict[str, dict[str, int]] = figures["by_month"]
    present = sorted({t for m in months for t in counts[m]}, key=lambda t: (_TYPE_ORDER.get(t, 99), t))
    series = {t: i for i, t in enumerate(present)}
    cols = []
    for m in months:
        segs = [
            Segment(
                value=counts[m][t],
                series=series[t],
                label=_(
                    "dashboard.segment.month", month=m, type=doc_type_label(t), n=count_text(counts[m][t])
                ),
                href=month_link(t, m),
            )
            for t in present
            if counts[m].get(t)
        ]
        total = sum(counts[m].values())
        cols.append(Column(label=m, total_text=count_text(total) if total else "", segments=segs))
    title, desc = _("dashboard.chart.months"), _("dashboard.chart.months_desc")
    return {
        "id": "chart-months",
        "title": title,
        "svg": columns("chart-months", cols, title=title, desc=desc) if present else None,
        "legend": [(PALETTE[series[t] % len(PALETTE)], doc_type_label(t)) for t in present],
        "head": [_("dashboard.col.month"), *(doc_type_label(t) for t in present), _("dashboard.col.total")],
        "rows": [
            [
                (m, None),
                *(
                    (count_text(counts[m].get(t, 0)), month_link(t, m) if counts[m].get(t) else None)
                    for t in present
                ),
                (count_text(sum(counts[m].values())), None),
            ]
            for m in months
        ],
    }


def _amount_chart(dimension: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    dim = _(_DIM_LABELS[dimension])

    def label(group: dict[str, Any]) -> str:
        return customer_type_label(group["label"]) if dimension == "customer_type" else group["label"]

    chart_groups = [
        Group(
            label=label(g),
            bars=[
                Bar(
                    value=float(g["types"][t]["amount"]),
                    series=i,
                    text=amount_text(g["types"][t]["amount"]),
                    label=_(
                        "dashboard.bar.amount",
                        group=label(g),
                        type=doc_type_label(t),
                        amount=amount_text(g["types"][t]["amount"]),
                        n=count_text(g["types"][t]["count"]),
                    ),
                    href=amount_link(dimension, g["value"], t),
                )
                for i, t in enumerate(AMOUNT_TYPES)
            ],
        )
        for g in groups
    ]
    chart_id = f"chart-amounts-{dimension}"
    title = _("dashboard.chart.amounts", dim=dim)
    desc = (
        _("dashboard.chart.amounts_desc_owner") if dimension == "owner" else _("dashboard.chart.amounts_desc")
    )
    head = [dim]
    for t in AMOUNT_TYPES:
        head += [
            _("dashboard.col.documents", type=doc_type_label(t)),
            _("dashboard.col.amount", type=doc_type_label(t)),
        ]
    return {
        "id": chart_id,
        "title": title,
        "svg": bars(chart_id, chart_groups, title=title, desc=desc) if groups else None,
        "legend": [(PALETTE[i], doc_type_label(t)) for i, t in enumerate(AMOUNT_TYPES)],
        "head": head,
        "rows": [
            [
                (label(g), None),
                *(
                    cell
                    for t in AMOUNT_TYPES
                    for cell in (
                        (count_text(g["types"][t]["count"]), amount_link(dimension, g["value"], t)),
                        (f"¥{Decimal(g['types'][t]['amount']):,.2f}", None),
                    )
                ),
            ]
            for g in groups
        ],
    }


def _customer_chart(field: str, customers: dict[str, Any]) -> dict[str, Any]:
    groups = customers[field]

    def label(value: str) -> str:
        return customer_type_label(value) if field == "customer_type" else value

    chart_id = f"chart-customers-{field}"
    title = _(_CUSTOMER_TITLES[field])
    desc = _("dashboard.chart.customers_desc")
    chart_groups = [
        Group(
            label=label(g["value"]),
            bars=[
                Bar(
                    value=g["count"],
                    series=0,
                    text=count_text(g["count"]),
                    label=_("dashboard.bar.customers", group=label(g["value"]), n=count_text(g["count"])),
                    href=customers_link(field, g["value"]),
                )
            ],
        )
        for g in groups
    ]
    return {
        "id": chart_id,
        "title": title,
        "svg": bars(chart_id, chart_groups, title=title, desc=desc) if groups else None,
        "legend": [],
        "unset": customers[f"{field}_unset"],
        "head": [_(_DIM_LABELS[field]), _("dashboard.col.customers")],
        "rows": [
            [(label(g["value"]), None), (count_text(g["count"]), customers_link(field, g["value"]))]
            for g in groups
        ],
    }


@bp.app_template_global()
def start_page() -> dict[str, Any]:
    """The start page for the signed-in user: recent documents, backlog, charts (see the module docstring)."""
    page = get_dossier().dashboard.start_page(g.principal)
    charts = [_month_chart(page)]
    charts += [_amount_chart(dim, page["amounts"][dim]) for dim in DIMENSIONS]
    charts += [_customer_chart(field, page["customers"]) for field in ("customer_type", "stage")]
    return {
        "recent": page["recent"],
        "backlog": page["backlog"],
        "charts": charts,
        "empty_home": page["empty_home"],
        "registry_empty": page["registry_empty"],
        "may_upload": g.principal.role not in READ_ONLY_ROLES,
    }

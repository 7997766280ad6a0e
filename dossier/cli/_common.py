"""Helpers every ``dossier`` command module shares: open the data home, pick the principal, print JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click


def _open(ctx: click.Context) -> Any:
    from dossier.app.services import Dossier

    return Dossier.open(ctx.find_root().obj["settings"])


def _principal(dossier: Any, as_user: str | None) -> Any:
    from index import Principal

    return dossier.accounts.principal_for(as_user) if as_user else Principal.system()


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))


def search_values(
    query: Sequence[str],
    customer: Sequence[str],
    doc_type: Sequence[str],
    tag: Sequence[str],
    customer_types: Sequence[str],
    industries: Sequence[str],
    regions: Sequence[str],
    years: Sequence[str],
    date_from: str | None,
    date_to: str | None,
    sort: str,
) -> dict[str, list[str]]:
    """The search options of ``search`` and ``export`` under the parameter names of :mod:`dossier.app.search_request`."""
    return {
        "q": [" ".join(query)],
        "customer": list(customer),
        "type": list(doc_type),
        "tag": list(tag),
        "customer_type": list(customer_types),
        "industry": list(industries),
        "region": list(regions),
        "year": list(years),
        "from": [date_from] if date_from else [],
        "to": [date_to] if date_to else [],
        "sort": [sort],
    }

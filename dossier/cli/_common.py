"""Helpers every ``dossier`` command module shares: open the data home, pick the principal, print JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from foundation.messages import Message, load_stored, translate


def _open(ctx: click.Context) -> Any:
    from dossier.app.services import Dossier

    return Dossier.open(ctx.find_root().obj["settings"])


def _principal(dossier: Any, as_user: str | None) -> Any:
    from index import Principal

    return dossier.accounts.principal_for(as_user) if as_user else Principal.system()


def label(message_id: str) -> str:
    """``"中文 English"``: a column or field label in both languages side by side, as the CLI's compact lines print it.

    ``str(msg(...))`` joins the languages with ``" / "``; a line of several labels
    (``批次 batch 3  导入 ingested: 5``) keeps each pair together without the slash.
    """
    return f"{translate(message_id, 'zh')} {translate(message_id, 'en')}"


def shown(value: Any) -> str:
    """A stored reason or error as the CLI prints it: a stored message in both languages, other text as written."""
    if isinstance(value, Message):
        return str(value)
    message = load_stored(value) if isinstance(value, str) else None
    return str(message) if message is not None else ("" if value is None else str(value))


def bilingual(data: Any) -> Any:
    """``data`` with every message in it (stored reasons, job errors) in its bilingual form, for ``--json``."""
    if isinstance(data, Message) or (isinstance(data, str) and load_stored(data) is not None):
        return shown(data)
    if isinstance(data, dict):
        return {key: bilingual(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [bilingual(value) for value in data]
    return data


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(bilingual(data), ensure_ascii=False, indent=None, default=str))


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
    archived: str = "exclude",
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
        "archived": [archived],
    }


def steering_options(fn: Any) -> Any:
    """``--stage``, ``--importance`` and ``--ctag`` of ``search`` and ``export``: the linked customers' steering fields."""
    fn = click.option(
        "--ctag", "ctags", multiple=True, help="Only documents of customers with this tag (客户标签)."
    )(fn)
    fn = click.option(
        "--importance",
        "importance",
        multiple=True,
        help="Only documents of customers of this importance (A/B/C).",
    )(fn)
    return click.option(
        "--stage", "stages", multiple=True, help="Only documents of customers at this sales stage (销售阶段)."
    )(fn)


def steering_values(
    stages: Sequence[str], importance: Sequence[str], ctags: Sequence[str]
) -> dict[str, list[str]]:
    """``--stage``/``--importance``/``--ctag`` under the parameter names of :mod:`dossier.app.search_request`."""
    return {"stage": list(stages), "importance": list(importance), "ctag": list(ctags)}


#: ``--archived`` of ``search`` and ``export``: which documents by their lifecycle.
ARCHIVED_OPTION = click.option(
    "--archived",
    type=click.Choice(["exclude", "include", "only"]),
    default="exclude",
    show_default=True,
    help="Archived documents (归档): left out, included, or only they (the query's is:archived = only).",
)

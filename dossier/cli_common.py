"""Helpers every ``dossier`` command module shares: open the data home, pick the principal, print JSON."""

from __future__ import annotations

import json
from typing import Any

import click


def _open(ctx: click.Context) -> Any:
    from dossier.services import Dossier

    return Dossier.open(ctx.find_root().obj["settings"])


def _principal(dossier: Any, as_user: str | None) -> Any:
    from index import Principal

    return dossier.principal_for(as_user) if as_user else Principal.system()


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))

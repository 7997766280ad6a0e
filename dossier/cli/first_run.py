"""The first run: ``dossier init`` (what happened to the admin account, the next steps), ``dossier demo``
(the sample data beside the repository: the customer registry first, then the files) and the local
Redis of ``make run`` (``redis-up``, ``redis-down``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from dossier.cli._common import _echo_json, _open, label, shown
from dossier.cli.progress import BatchProgress
from foundation.errors import DossierError
from foundation.messages import msg

#: The sample data of a fresh clone: the corpus folder beside the repository (as the tests find it).
REPOSITORY = Path(__file__).resolve().parents[2]

#: Folders of the sample data that are not customer files (``bad/`` holds hostile inputs for the tests).
SKIPPED_FOLDERS = ("bad",)


def demo_folder(given: str | None) -> Path:
    """The folder of the sample data: ``given``, DOSSIER_CORPUS or ``../shared/corpus`` beside the repository.

    Either a corpus root (holding ``dev/``) or the data folder itself (holding ``customers.json``);
    a clear error says where it was looked for and what to do when it is not there.
    """
    root = Path(given or os.environ.get("DOSSIER_CORPUS") or REPOSITORY.parent / "shared" / "corpus")
    for folder in (root, root / "dev"):
        if (folder / "customers.json").is_file():
            return folder.resolve()
    raise DossierError(msg("cli.demo.missing", path=root))


def demo_files(folder: Path, only: tuple[str, ...] = ()) -> list[Path]:
    """The sub-folders of ``folder`` whose files the demo ingests (``only`` those named, when given)."""
    wanted = [
        p
        for p in sorted(folder.iterdir())
        if p.is_dir() and not p.name.startswith(".") and p.name not in SKIPPED_FOLDERS
    ]
    if only:
        unknown = sorted(set(only) - {p.name for p in wanted})
        if unknown:
            raise DossierError(
                msg(
                    "cli.demo.unknown_folder",
                    name=", ".join(unknown),
                    known=", ".join(p.name for p in wanted),
                )
            )
        wanted = [p for p in wanted if p.name in only]
    return wanted


def web_url(settings: Any) -> str:
    """Where ``dossier serve`` answers with these settings."""
    return f"http://{settings.get('DOSSIER_HOST')}:{settings.get('DOSSIER_PORT')}/"


def next_steps(settings: Any) -> list[str]:
    """What a newcomer can do now, one line each (both languages)."""
    url = web_url(settings)
    return [
        str(msg("cli.next.title")),
        f"  1. {msg('cli.next.open', url=url)}",
        f"  2. {msg('cli.next.demo')}",
        f"  3. {msg('cli.next.registry')}",
        f"  4. {msg('cli.next.ingest', url=url)}",
        f"  5. {msg('cli.next.inbox')}",
    ]


@click.command()
@click.option("--quiet", is_flag=True, help="Say only what happened, without the next steps.")
@click.pass_context
def init(ctx: click.Context, quiet: bool) -> None:
    """Create the data home, the schema and the admin user; say what happened and what to do next."""
    from dossier.app.services import Dossier

    settings = ctx.find_root().obj["settings"]
    dossier = Dossier.open(settings, require_init=False)
    generated = dossier.init()
    click.echo(f"{msg('cli.init.home')}: {settings.home}")
    outcome = dossier.admin_outcome
    if generated:
        # Shown this once, on the terminal only: it is in no log and no later output.
        click.echo(str(msg("cli.init.admin_created")))
        click.echo(f"{msg('cli.init.admin_user')}: admin   {msg('cli.init.password')}: {generated}")
        click.echo(str(msg("cli.init.password_once")))
    elif outcome == "setting":
        click.echo(str(msg("cli.init.admin_from_setting")))
    else:
        click.echo(str(msg("cli.init.admin_exists")))
    if not quiet:
        for line in next_steps(settings):
            click.echo(line)


@click.command()
@click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False),
    help="The sample data (default: DOSSIER_CORPUS, else ../shared/corpus beside the repository).",
)
@click.option(
    "--only",
    multiple=True,
    help="Load only this folder of the sample data (e.g. contracts); repeatable.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes to start when none runs (default: one per core).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def demo(
    ctx: click.Context, data: str | None, only: tuple[str, ...], workers: int | None, as_json: bool
) -> None:
    """Load the sample data: the customer registry first, then the files (through the normal ingest).

    Run it again and nothing is added twice (the registry is an upsert, a file already stored is
    a duplicate).  Then search a customer's short name on the web page: the customer facet, the
    customer folder, the entities and the exports have something to show.
    """

    from pipeline.intake import collect_files

    folder = demo_folder(data)
    folders = demo_files(folder, only)
    dossier = _open(ctx)
    if not as_json:
        click.echo(str(msg("cli.demo.registry", path=folder / "customers.json")))
    registry = dossier.customers.import_registry(folder / "customers.json")
    if not as_json:
        click.echo(
            "  "
            + str(
                msg(
                    "cli.customers.imported",
                    created=registry["created"],
                    updated=registry["updated"],
                    unchanged=registry["unchanged"],
                    errors=len(registry["errors"]),
                    reanalysed=registry["reanalysed"],
                )
            )
        )
    sources = collect_files(folders)
    if not as_json:
        click.echo(str(msg("cli.demo.files", n=len(sources), folders=", ".join(p.name for p in folders))))
    progress = BatchProgress(dossier, enabled=sys.stderr.isatty() and not as_json)
    try:
        summary = dossier.ingest_sources(sources, workers=workers, wait=True, on_batch=progress.start)
    finally:
        progress.close()
    example = _example_short_name(dossier, folder)
    if as_json:
        _echo_json(
            {
                "data": str(folder),
                "folders": [p.name for p in folders],
                "registry": {k: registry[k] for k in ("created", "updated", "unchanged", "errors")},
                "ingest": summary,
                "example": example,
            }
        )
        return
    click.echo(
        f"  {label('cli.label.batch')} {summary['batch']}  {label('cli.label.ingested')}: {summary['ingested']}"
        f"  {label('cli.label.duplicates')}: {summary['duplicates']}  {label('cli.label.failed')}: {len(summary['failed'])}"
    )
    for failure in summary["failed"]:
        click.echo(f"  ✗ {failure['file']}: {shown(failure['error'])}")
    if not summary["ingested"] and not registry["created"]:
        click.echo(str(msg("cli.demo.already")))
    click.echo(str(msg("cli.demo.try", url=web_url(dossier.settings), name=example or "")))


def _example_short_name(dossier: Any, folder: Path) -> str | None:
    """A registered customer's short name that finds a contract (what to type first), if any."""
    import json

    from dossier.app.search_request import search_request
    from index import Principal

    try:
        customers = json.loads((folder / "customers.json").read_text(encoding="utf-8"))["customers"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    customers = [c for c in customers if isinstance(c, dict)]
    customers.sort(key=lambda c: str(c.get("short_name") or "").isascii())  # a Chinese name first
    for customer in customers[:40]:
        name = customer.get("short_name")
        if not name:
            continue
        request = search_request({"q": [name], "type": ["contract"]}, limit=1)
        if dossier.search(request, Principal.system())["total"]:
            return str(name)
    return None


@click.command("redis-up")
@click.pass_context
def redis_up(ctx: click.Context) -> None:
    """Start a local redis-server in the data home when DOSSIER_REDIS_URL points here and nobody answers."""
    from workers.local_redis import start_local_redis

    started, report = start_local_redis(ctx.find_root().obj["settings"])
    click.echo(report)
    if started:
        click.echo(str(msg("cli.redis.stop_hint")))


@click.command("redis-down")
@click.pass_context
def redis_down(ctx: click.Context) -> None:
    """Stop the local Redis that Dossier started for this data home (`make run`); any other is left alone."""
    from workers.local_redis import stop_local_redis

    click.echo(stop_local_redis(ctx.find_root().obj["settings"]))

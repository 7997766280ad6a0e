"""The ``dossier`` command (BRIEF §3).  Output contracts of ``--json`` are stable."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

import click

from dossier.app.search_request import search_request
from dossier.cli._common import (
    ARCHIVED_OPTION,
    _echo_json,
    _open,
    _principal,
    bilingual,
    label,
    search_values,
    shown,
    steering_options,
    steering_values,
)
from dossier.cli.progress import BatchProgress, progress_line
from foundation.config import SETTINGS, load_settings
from foundation.errors import DossierError
from foundation.messages import msg, translate


class _Cli(click.Group):
    """Turns every DossierError into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DossierError as exc:
            click.echo(f"{msg('cli.error')}: {exc.message}", err=True)
            ctx.exit(1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="DOSSIER_HOME", help="Data folder (DOSSIER_HOME).")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Dossier — 客户档案检索：ingest, search and export a sales team's customer files."""
    settings = load_settings()
    if home:
        settings = settings.with_overrides(DOSSIER_HOME=home)
    ctx.obj = {"settings": settings}


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--customer", help="Customer name for every file (客户).")
@click.option("--type", "doc_type", help="Document type for every file (类型), e.g. contract / 合同.")
@click.option("--tag", "tags", multiple=True, help="Tag for every file (标签); repeatable.")
@click.option(
    "--wait", is_flag=True, help="Return when everything is processed (OCR included) and print a summary."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes to start when none runs (default: one per core).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    customer: str | None,
    doc_type: str | None,
    tags: tuple[str, ...],
    wait: bool,
    as_json: bool,
    workers: int | None,
) -> None:
    """Ingest files and folders (recursively).

    Each file is stored and queued for the workers (``dossier worker`` or ``dossier serve``);
    with --wait the command shows progress and returns when every file and page is done,
    starting workers itself when none runs.  When Redis cannot be reached the files are
    processed in this command instead.
    """
    from pipeline.intake import collect_files

    dossier = _open(ctx)
    sources = collect_files(paths)
    named = dossier.customers.intake_customer(
        customer
    )  # a registered name, a suggestion, or no customer (and why)
    if named is not None and named["message"] and not as_json:
        click.echo(f"! {shown(named['message'])}", err=True)
    progress = BatchProgress(dossier, enabled=sys.stderr.isatty())
    try:
        summary = dossier.ingest_sources(
            sources,
            customer=customer,
            doc_type=doc_type,
            tags=tags,
            workers=workers,
            wait=wait,
            on_batch=progress.start,
        )
    finally:
        progress.close()
    if as_json:
        if (
            named is not None
        ):  # what --customer became: {"name", "outcome", "customer", "candidates", "message"}
            summary["customer"] = named
        _echo_json(summary)
        return
    if summary["mode"] == "inline":
        click.echo(str(msg("cli.ingest.inline")), err=True)
    click.echo(
        f"{label('cli.label.batch')} {summary['batch']}  {label('cli.label.ingested')}: {summary['ingested']}"
        f"  {label('cli.label.duplicates')}: {summary['duplicates']}  {label('cli.label.queued')}: {summary['queued']}"
        f"  {label('cli.label.awaiting_ocr')}: {summary['awaiting_ocr']}  {label('cli.label.failed')}: {len(summary['failed'])}"
    )
    if summary["queued"]:
        click.echo(f"  {msg('cli.ingest.progress')}: dossier status {summary['batch']}")
    for failure in summary["failed"]:
        click.echo(f"  ✗ {failure['file']}: {shown(failure['error'])}")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True)
@click.option("--customer", multiple=True, help="Only documents of this customer.")
@click.option("--type", "doc_type", multiple=True, help="Only this document type.")
@click.option("--tag", multiple=True, help="Only documents with this tag.")
@click.option(
    "--customer-type", "customer_types", multiple=True, help="潜在客户/现有客户/流失客户 (or 潜在/现有/流失)."
)
@click.option("--industry", "industries", multiple=True, help="Only documents of customers in this industry.")
@click.option("--region", "regions", multiple=True, help="Only documents of customers in this province.")
@click.option("--year", "years", multiple=True, help="Only documents dated in this year.")
@steering_options
@click.option(
    "--file-format",
    "formats",
    multiple=True,
    help="Only files of this format: pdf, word, excel, powerpoint, image, email, archive, text, other.",
)
@click.option("--scans", is_flag=True, help="Only scans: image files and PDFs whose text came from OCR.")
@click.option("--from", "date_from", help="Document date from (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Document date to (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--sort", type=click.Choice(["relevance", "date_desc", "date_asc"]), default="relevance")
@click.option(
    "--versions",
    type=click.Choice(["current", "all"]),
    default="current",
    show_default=True,
    help="all: also search older versions' text (as version:all); a hit says which version matched.",
)
@ARCHIVED_OPTION
@click.option("--as", "as_user", help="Search as this user (admins).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    customer: tuple[str, ...],
    doc_type: tuple[str, ...],
    tag: tuple[str, ...],
    customer_types: tuple[str, ...],
    industries: tuple[str, ...],
    regions: tuple[str, ...],
    years: tuple[str, ...],
    stages: tuple[str, ...],
    importance: tuple[str, ...],
    ctags: tuple[str, ...],
    formats: tuple[str, ...],
    scans: bool,
    date_from: str | None,
    date_to: str | None,
    limit: int,
    offset: int,
    sort: str,
    versions: str,
    archived: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Search: words are ANDed, "exact phrase", -exclude, OR, customer:/type:/tag:.

    The words may be given as one quoted argument or as several (`dossier search 报价 -草稿`).
    """
    import re

    dossier = _open(ctx)
    values = search_values(
        query,
        customer,
        doc_type,
        tag,
        customer_types,
        industries,
        regions,
        years,
        date_from,
        date_to,
        sort,
        archived,
    )
    values["versions"] = [versions]
    values.update(steering_values(stages, importance, ctags))
    values["file_format"] = list(formats)
    values["scan"] = ["1"] if scans else []
    request = search_request(values, limit=limit, offset=offset)
    principal = _principal(dossier, as_user)
    result = dossier.search(request, principal)
    dossier.audit.record_search(principal.username, request, result["total"], "cli")
    if as_json:
        for hit in result["hits"]:
            hit.pop("title_html", None)
            hit.pop("status", None)
        _echo_json(result)
        return
    click.echo(str(msg("cli.search.total", n=result["total"], ms=result["took_ms"])))
    if result.get("suggestions"):  # did you mean (the JSON has them as "suggestions")
        queries = "  ".join(s["query"] for s in result["suggestions"])
        click.echo(str(msg("cli.search.did_you_mean", queries=queries)))
    for hit in result["hits"]:
        snippet = re.sub(
            r"<mark>(.*?)</mark>", lambda m: click.style(m.group(1), bold=True, fg="red"), hit["snippet"]
        )
        snippet = re.sub(r"<[^>]+>", "", snippet)
        import html

        version = f"  [{msg('version.hit', n=hit['version'])}]" if hit.get("version") else ""
        if hit.get("activity"):  # an activity or comment: its id, kind, customer and date
            who = hit.get("customer") or "-"
            click.echo(f"[activity {hit['activity']}] {hit['title']}  ({hit['kind']}, {who}, {hit['date']})")
        else:
            shown_title = hit.get("display_title") or hit["title"]
            click.echo(f"[{hit['id']}] {shown_title}  ({hit['doc_type']}, {hit['filename']}){version}")
        click.echo(f"    {html.unescape(snippet)}")


@cli.command()
@click.argument("doc_id", type=int)
@click.option("--as", "as_user", help="Show as this user (admins).")
@click.option("--json", "as_json", is_flag=True, help="Print the document as JSON.")
@click.pass_context
def show(ctx: click.Context, doc_id: int, as_user: str | None, as_json: bool) -> None:
    """Show one document: metadata, pages, versions."""
    dossier = _open(ctx)
    doc = dossier.show(doc_id, _principal(dossier, as_user))
    if as_json:
        _echo_json(doc)
        return
    click.echo(f"[{doc['id']}] {doc['title']}")
    for key in (
        "filename",
        "doc_type",
        "doc_type_reason",
        "status",
        "error",
        "customers",
        "tags",
        "date",
        "mime",
        "size",
        "created_at",
    ):
        if doc.get(key) not in (None, "", []):
            click.echo(f"  {key}: {shown(doc[key]) if isinstance(doc[key], str) else bilingual(doc[key])}")
    for warning in doc.get("warnings") or []:
        click.echo(f"  warning: {shown(warning)}")
    for kind, values in (doc.get("entities") or {}).items():
        if values:
            click.echo(f"  {kind}: {', '.join(values)}")
    for due in doc.get("due_dates") or []:
        click.echo(f"  {due['kind']}: {due['date']} ({msg('cli.page', n=due['page'])}: {due['sentence']})")
    for page in doc["pages"]:
        marker = f" ({msg('cli.show.awaiting_ocr')})" if page["needs_ocr"] else ""
        click.echo(f"--- {msg('cli.page', n=page['n'])}{marker}")
        click.echo(page["text"])


@cli.command()
@click.argument("batch_id", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def status(ctx: click.Context, batch_id: int | None, as_json: bool) -> None:
    """Documents by status, the queue and recent batches; with BATCH_ID, that batch's progress and failures."""
    dossier = _open(ctx)
    if batch_id is not None:
        report = dossier.batch_status(batch_id)
        if as_json:
            _echo_json(report)
            return
        click.echo(
            f"{label('cli.label.batch')} {report['id']} ({report['source']}, {report['created_at']})"
            f"  {label('cli.label.state')}: {report['state']}"
        )
        click.echo("  " + progress_line(report))
        for failure in report["failures"]:
            where = f" {msg('cli.page', n=failure['page'])}" if failure["page"] else ""
            ref = f"[{failure['document_id']}] " if failure["document_id"] else ""
            click.echo(f"  ✗ {ref}{failure['file']}{where}: {shown(failure['error'])}")
        return
    info = dossier.status()
    if as_json:
        _echo_json(info)
        return
    for warning in info["warnings"]:
        click.echo(f"⚠ {msg('cli.warning')}: {shown(warning)}", err=True)
    indexed = "?" if info["indexed"] is None else info["indexed"]  # None: the search engine does not answer
    click.echo(
        f"{msg('cli.status.home')}: {info['home']}   {msg('cli.status.index')}: {info['index']}"
        f" ({translate('cli.status.indexed', 'zh', n=indexed)})"
    )
    index_status = info["index_status"]
    if index_status["pending"] or index_status["error"]:
        click.echo(
            f"{msg('cli.status.index_pending')}: {index_status['pending']}"
            + (f"  ({shown(index_status['error'])})" if index_status["error"] else "")
        )
    for failure in index_status["failures"][:20]:
        click.echo(f"  ✗ {label('cli.status.index')} [{failure['document_id']}]: {shown(failure['error'])}")
    click.echo(
        f"{msg('cli.status.documents')}: {info['documents']}  "
        + "  ".join(f"{k}: {v}" for k, v in info["by_status"].items())
    )
    click.echo(f"{msg('cli.status.pages_awaiting_ocr')}: {info['pages_awaiting_ocr']}")
    last = info["backup"]["last"]
    if last is not None:
        click.echo(
            f"{msg('cli.status.backup')}: {last['finished_at']}"
            f" ({translate('cli.status.backup_age', 'zh', hours=info['backup']['last_age_hours'])})  {last['destination']}"
        )
    elif info["backup"]["dir"]:
        click.echo(f"{msg('cli.status.backup')}: {msg('cli.status.backup_none')}")
    mail = info["mail"]
    if mail["pending"] or mail["failed"]:
        click.echo(str(msg("cli.status.mail", pending=mail["pending"], failed=mail["failed"])))
    queue = info["queue"]
    if queue["reachable"]:
        click.echo(
            f"{msg('cli.status.queue')}: {queue['jobs']} {label('cli.status.jobs')},"
            f" {queue['workers']} {label('cli.status.workers')}"
        )
    else:
        click.echo(f"{msg('cli.status.queue')}: {shown(queue['error'])}")
    for batch in info["batches"]:
        click.echo(f"  {label('cli.label.batch')} {batch['id']} [{batch['state']}] " + progress_line(batch))
    for failure in info["recent_failures"]:
        click.echo(f"  ✗ [{failure['id']}] {failure['title']}: {shown(failure['error'])}")
    if info["unmatched_owners"]:
        from dossier.app.owners import owner_warning

        for item in info["unmatched_owners"]:
            click.echo(f"! {owner_warning(item)}")


@cli.command()
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option("--quiet", is_flag=True, help="No start-up message.")
@click.pass_context
def worker(ctx: click.Context, burst: bool, quiet: bool) -> None:
    """Run one worker: parse, OCR and index queued files (start one per CPU core)."""
    import logging

    from workers.runner import run_worker, worker_name

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = ctx.obj["settings"]
    _open(ctx)  # a clear message when the data home is not initialised
    name = worker_name()
    if not quiet:
        click.echo(str(msg("cli.worker.started", name=name)), err=True)
    run_worker(settings, burst=burst, name=name)


@cli.command()
@click.argument("inbox", type=click.Path(file_okay=False))
@click.option("--once", is_flag=True, help="Take what is there, wait until it is processed, settle it, exit.")
@click.option(
    "--interval", type=float, default=2.0, show_default=True, help="Seconds between scans of the inbox."
)
@click.pass_context
def watch(ctx: click.Context, inbox: str, once: bool, interval: float) -> None:
    """Watch an inbox folder: take new files once stable, queue them, move them to .done/ or .failed/.

    Sub-folders give metadata: INBOX/<客户 customer>/<类型 type>/<标签 tag>/.../file.
    """
    from workers.inbox import Inbox

    dossier = _open(ctx)
    box = Inbox(dossier, inbox, settle_s=float(dossier.settings.get("DOSSIER_INBOX_SETTLE")))
    if dossier.queue() is None:
        click.echo(str(msg("cli.inbox.inline")), err=True)
    progress = BatchProgress(dossier, enabled=sys.stderr.isatty(), title=label("cli.progress.inbox"))
    box.on_batch = progress.start
    try:
        if once:
            _echo_json(box.run_once())
            return
        click.echo(str(msg("cli.inbox.watching", root=box.root)), err=True)
        box.run_forever(interval, log=lambda line: click.echo(line, err=True))
    finally:
        progress.close()


@cli.command()
@click.option(
    "--restart", is_flag=True, help="Start afresh instead of resuming a rebuild that was interrupted."
)
@click.pass_context
def reindex(ctx: click.Context, restart: bool) -> None:
    """Rebuild the search index from the records (the index is derived data; search goes on meanwhile)."""
    dossier = _open(ctx)
    show = sys.stderr.isatty()
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if show:
            rate = done / max(time.monotonic() - started, 1e-6)
            click.echo(
                f"\r{label('cli.reindex.progress')} {done}/{total}  {rate:.0f} {label('cli.reindex.rate')}",
                nl=False,
                err=True,
            )

    count = dossier.reindex(restart=restart, progress=progress)
    if show:
        click.echo("", err=True)
    click.echo(str(msg("cli.reindex.done", n=count, backend=dossier.backend.name)))


@cli.command()
@click.option("--host", envvar="DOSSIER_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="DOSSIER_PORT", type=int, default=8000, show_default=True)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes beside the web server (default: one per core; 0: none).",
)
@click.option(
    "--local-redis",
    is_flag=True,
    help="Start a local Redis when none answers at DOSSIER_REDIS_URL, and stop it on exit (make run).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, local_redis: bool) -> None:
    """Serve the web UI (waitress) and run the workers that process uploads and scans.

    The workers are supervised: one that exits is restarted (after a wait that grows while it
    keeps dying).  Without Redis they are started all the same and wait for it.  With
    --local-redis a Redis this command started is stopped again when it stops (Ctrl+C);
    one that was running before is left alone.
    """
    if local_redis:
        from workers.local_redis import start_local_redis, stop_local_redis

        started, report = start_local_redis(ctx.obj["settings"])
        click.echo(report, err=True)
        try:
            _serve(ctx, host, port, workers)
        finally:
            if started:
                click.echo(stop_local_redis(ctx.obj["settings"]), err=True)
        return
    _serve(ctx, host, port, workers)


def _serve(ctx: click.Context, host: str, port: int, workers: int | None) -> None:
    import logging

    from waitress import serve as waitress_serve

    from dossier.app.worker_processes import WorkerProcesses
    from webui import create_app

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = ctx.obj["settings"]
    dossier = _open(ctx)
    app = create_app(settings)
    count = settings.workers if workers is None else workers
    helpers = None
    if count > 0:
        if dossier.queue() is None:
            click.echo(str(msg("cli.serve.no_redis")), err=True)
        helpers = WorkerProcesses(settings, count, supervise=True)
        click.echo(str(msg("cli.serve.workers_started", n=count)), err=True)
    click.echo(str(msg("cli.serve.running", url=f"http://{host}:{port}/")))
    from dossier.app.backup import start_scheduler

    # Scheduled backups (DOSSIER_BACKUP_DIR): here and in each worker; the backup folder's lock lets one make it.
    scheduler = start_scheduler(settings, dossier.backups.run_scheduled)

    def _stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)  # runs the finally below: the workers finish their jobs and exit

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        waitress_serve(app, host=host, port=port, threads=8, max_request_body_size=1024 * 1024 * 1024)
    finally:
        if scheduler is not None:
            scheduler.stop()
        if helpers is not None:
            click.echo(str(msg("cli.serve.stopping")), err=True)
            helpers.stop()


@cli.command("settings")
def settings_cmd() -> None:
    """List every DOSSIER_* setting with its default and help."""
    for s in SETTINGS:
        click.echo(f"{s.name}={s.default!s:<28} {s.help}")


# The registry commands live in their own module (also when this one runs as ``python -m dossier.cli``).
from dossier.cli.activities import activities  # noqa: E402
from dossier.cli.audit import audit  # noqa: E402
from dossier.cli.backup import backup, restore  # noqa: E402
from dossier.cli.check import check  # noqa: E402
from dossier.cli.customers import customers, reextract  # noqa: E402
from dossier.cli.documents import documents  # noqa: E402
from dossier.cli.export import export  # noqa: E402
from dossier.cli.first_run import demo, init, redis_down, redis_up  # noqa: E402
from dossier.cli.keys import keys  # noqa: E402
from dossier.cli.lifecycle import archive, trash, unarchive  # noqa: E402
from dossier.cli.notifications import notifications  # noqa: E402
from dossier.cli.reminders import reminders  # noqa: E402
from dossier.cli.retention import retention  # noqa: E402
from dossier.cli.users import users  # noqa: E402
from dossier.cli.views import views  # noqa: E402

cli.add_command(activities)
cli.add_command(audit)
cli.add_command(check)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(customers)
cli.add_command(documents)
cli.add_command(reextract)
cli.add_command(export)
cli.add_command(init)
cli.add_command(demo)
cli.add_command(redis_up)
cli.add_command(redis_down)
cli.add_command(keys)
cli.add_command(trash)
cli.add_command(archive)
cli.add_command(unarchive)
cli.add_command(reminders)
cli.add_command(retention)
cli.add_command(notifications)
cli.add_command(users)
cli.add_command(views)


def main() -> None:
    """Entry point of the ``dossier`` console script (and ``python -m dossier``, which the workers run)."""
    from foundation.filemodes import private_umask

    private_umask()  # the data home's files (and the workers' and Redis's) are the running account's alone
    cli(prog_name="dossier")


if __name__ == "__main__":
    main()

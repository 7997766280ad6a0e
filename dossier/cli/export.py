"""``dossier export``: the hits of a search as CSV, XLSX, JSON Lines or a ZIP of the originals."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

import click

from dossier.app.search_request import search_request
from dossier.cli._common import (
    ARCHIVED_OPTION,
    _echo_json,
    _open,
    _principal,
    label,
    search_values,
    steering_options,
    steering_values,
)
from foundation.errors import DossierError
from foundation.messages import msg

FORMAT_CHOICES = ("csv", "xlsx", "jsonl", "zip")


def _format_for(fmt: str | None, output: str) -> str:
    """The format asked for, else the output file's extension."""
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix in FORMAT_CHOICES:
        return suffix
    raise DossierError(msg("cli.export.no_format"))


class _Progress:
    """A progress bar on a terminal's stderr (rows done of the planned count); silent otherwise."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled
        self.label = label
        self._bar: Any = None
        self._last = 0.0
        self.done = 0

    def start(self, total: int) -> None:
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn(f"[bold]{self.label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(self.label, total=max(total, 1), rate="")
        self._started = time.monotonic()
        self._bar.start()

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        if self._bar is None:
            return
        now = time.monotonic()
        if now - self._last < 0.2 and done < total:
            return
        self._last = now
        rate = done / max(now - self._started, 1e-6)
        self._bar.update(
            self._task,
            completed=done,
            total=max(total, done, 1),
            rate=f"{rate:,.0f} {label('cli.export.rate')}",
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    help="csv | xlsx | jsonl | zip (default: from -o's extension).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    help="File to write; `-` writes to standard output (not a terminal for xlsx/zip).",
)
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
@click.option("--from", "date_from", help="Document date from (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Document date to (YYYY-MM-DD).")
@click.option("--sort", type=click.Choice(["relevance", "date_desc", "date_asc"]), default="relevance")
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Export only the first N hits (default: every hit)."
)
@ARCHIVED_OPTION
@click.option("--as", "as_user", help="Export as this user: only what they may read.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the summary as one JSON object (on stderr with -o -)."
)
@click.pass_context
def export(
    ctx: click.Context,
    query: tuple[str, ...],
    fmt: str | None,
    output: str,
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
    date_from: str | None,
    date_to: str | None,
    sort: str,
    limit: int | None,
    archived: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Export every hit of a search (no QUERY: every document) as CSV, XLSX, JSON Lines or a ZIP of originals.

    Filters are those of `dossier search`. CSV is UTF-8 with BOM for Excel; the ZIP holds the
    originals as <customer>/<type>/<title>.<ext> plus manifest.csv and manifest.json (sha256).
    A result set over DOSSIER_EXPORT_MAX_HITS (or the ZIP limits) is refused before anything
    is written. The file appears under its name only once complete.
    """
    fmt = _format_for(fmt, output)
    to_stdout = output == "-"
    if to_stdout and fmt in ("xlsx", "zip") and sys.stdout.isatty():
        raise DossierError(msg("cli.export.binary_to_terminal", format=fmt))
    dossier = _open(ctx)
    request = search_request(
        search_values(
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
        | steering_values(stages, importance, ctags),
        limit=1,
    )
    principal = _principal(dossier, as_user)
    plan = dossier.exports.plan(request, principal, fmt, limit=limit)
    plan.check()
    progress = _Progress(sys.stderr.isatty() and not as_json, f"{label('cli.export.progress')} {fmt}")
    _plan, chunks = dossier.exports.stream(
        request, principal, fmt, plan=plan, limit=limit, via="cli", progress=progress
    )
    written = 0
    progress.start(plan.count)
    try:
        if to_stdout:
            try:
                written = _write(chunks, sys.stdout.buffer)
            except BrokenPipeError:
                # The reader went away (`| head`): stop quietly, as Unix tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise DossierError(msg("cli.export.pipe_closed")) from None
        else:
            target = Path(output)
            part = target.with_name(target.name + ".part")
            try:
                with os.fdopen(
                    os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb"
                ) as fh:  # private
                    written = _write(chunks, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(part, target)
            finally:
                part.unlink(missing_ok=True)
    finally:
        chunks.close()  # an export cut short is audited as incomplete now, not at exit
        progress.close()
    summary = {"file": output, "format": fmt, "hits": progress.done, "total": plan.total, "bytes": written}
    if as_json and not to_stdout:
        _echo_json(summary)
    elif as_json:
        click.echo(json.dumps(summary, ensure_ascii=False), err=True)
    else:
        click.echo(
            str(msg("cli.export.done", n=progress.done, total=plan.total, file=output, bytes=f"{written:,}")),
            err=True,
        )


def _write(chunks: Any, out: BinaryIO) -> int:
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    out.flush()
    return written


__all__ = ["export"]

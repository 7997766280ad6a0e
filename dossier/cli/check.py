"""``dossier check``: the integrity check of the data home (完整性检查), and ``--repair``.

Prints each finding in both languages (``✗`` still wrong, ``✓`` repaired) and a summary line
with the counts and the time taken; ``--json`` prints the whole report as one object.  Exits 0
when nothing is wrong (or everything found was repaired), 1 otherwise.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from dossier.cli._common import _echo_json, _open, label, shown
from foundation.messages import msg

#: Findings of one kind printed before "… and N more" (``--json`` lists them all).
SHOWN_PER_KIND = 20


class _Progress:
    """``stage done/total`` redrawn in place on a terminal's stderr."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= 0.2 or done == total:
            self._last = now
            click.echo(f"\r{label(stage)} {done}/{total}   ", err=True, nl=done == total)


@click.command("check")
@click.option(
    "--repair",
    is_flag=True,
    help="Repair what the records allow: reindex, delete extra entries, remove orphans.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check the data home (完整性检查): originals, the search index, orphan files, the audit trail's triggers.

    Every original must hash to its name (decrypted when sealed), every document version must have
    its original, the index must hold exactly what the records call for, and nothing may be left
    that no record names.  --repair fixes what can be fixed from the records and says what cannot
    (a lost or damaged original: restore it from a backup).  Exit status 1 when something is wrong.
    """
    dossier = _open(ctx)
    progress = _Progress() if not as_json and sys.stderr.isatty() else None
    report = dossier.integrity.check(repair=repair, progress=progress)
    if as_json:
        _echo_json(report.as_dict())
    else:
        _print(report)
    ctx.exit(0 if report.ok else 1)


def _print(report: Any) -> None:
    shown_of: dict[str, int] = {}
    for finding in report.findings:
        shown_of[finding.kind] = shown_of.get(finding.kind, 0) + 1
        if shown_of[finding.kind] > SHOWN_PER_KIND:
            continue
        if finding.repaired:
            mark = f"✓ [{label('cli.check.repaired')}]"
        elif report.repair and not finding.repairable:
            mark = f"✗ [{label('cli.check.not_repairable')}]"
        else:
            mark = "✗"
        click.echo(f"{mark} {shown(finding.message)}")
    for kind, count in shown_of.items():
        if count > SHOWN_PER_KIND:
            click.echo(f"  {msg('cli.check.more', kind=kind, n=count - SHOWN_PER_KIND)}")
    checked = report.checked
    click.echo(
        str(
            msg(
                "cli.check.summary",
                blobs=checked.get("blobs", 0),
                versions=checked.get("versions", 0),
                entries=checked.get("index_entries", 0),
                seconds=f"{report.seconds:.1f}",
                found=len(report.findings),
                repaired=sum(1 for f in report.findings if f.repaired),
                left=len(report.problems),
            )
        )
    )
    if report.ok and not report.findings:
        click.echo(str(msg("cli.check.clean")))
    elif not report.repair and any(f.repairable for f in report.problems):
        click.echo(str(msg("cli.check.hint_repair")))

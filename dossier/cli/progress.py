"""The ingest progress bar of ``dossier ingest``, ``watch`` and ``demo``, and the one-line progress of a batch."""

from __future__ import annotations

import threading
from typing import Any

from dossier.cli._common import label
from foundation.messages import translate


class BatchProgress:
    """A live progress bar for a batch (files, pages, pages/s, ETA, failures) on a terminal's stderr.

    It polls the records in a thread, so it shows the same numbers whether the batch is
    processed here or by workers elsewhere.  Silent when stderr is not a terminal.
    """

    def __init__(self, dossier: Any, enabled: bool, title: str | None = None) -> None:
        self.dossier = dossier
        self.enabled = enabled
        self.title = title if title is not None else label("cli.progress.ingest")
        self._batch: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._task: Any = None  # the bar's task id

    def start(self, batch_id: int) -> None:
        """Begin showing ``batch_id`` (a watcher's next batch replaces the previous one on the bar)."""
        self._batch = batch_id
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.reset(self._task, total=None, line="")
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn(f"[bold]{self.title}"),
            BarColumn(),
            TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._bar.add_task(self.title, total=None, line="")
        self._bar.start()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.show()
            self._stop.wait(0.5)

    def show(self, report: dict[str, Any] | None = None) -> None:
        """Redraw from a report (or a fresh one)."""
        if self._bar is None or self._batch is None:
            return
        try:
            report = report or self.dossier.batch_report(self._batch)
        except Exception:  # a busy database must not kill the bar
            return
        self._bar.update(
            self._task,
            total=max(1, report["files"]["total"]),
            completed=report["files"]["total"] - report["files"]["queued"] - report["files"]["processing"],
            line=progress_line(report),
        )

    def close(self) -> None:
        """Stop polling and leave the last state on screen."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.show()
        if self._bar is not None:
            self._bar.stop()


def progress_line(report: dict[str, Any]) -> str:
    """One line: files done/total, pages done/total, pages/s, ETA, failures."""
    files, pages = report["files"], report["pages"]
    done_files = files["done"] + files["duplicate"] + files["failed"]
    eta_text = ""
    if report.get("state") != "done":
        eta_text = f"  {label('cli.label.eta')} {eta_shown(report.get('eta_s'))}"
    failed = files["failed"] + pages["failed"]
    return (
        f"{label('cli.label.files')} {done_files}/{files['total']}"
        f"  {label('cli.label.pages')} {pages['done']}/{pages['total']}"
        f"  {report['pages_per_s']:.2f} {translate('cli.progress.pages_per_s', 'zh')}{eta_text}"
        f"  {label('cli.label.failed')} {failed}"
    )


def eta_shown(seconds: float | None) -> str:
    """``1:05`` (minutes:seconds, hours when long), or "estimating…" while there is no rate to tell it by."""
    if seconds is None:
        return label("cli.progress.estimating")
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

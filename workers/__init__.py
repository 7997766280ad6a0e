"""Background work: the intake chain, its parser pool, the RQ job queue, the worker and the inbox watcher.

Callers import from here: :class:`Intake` (take + process), :class:`JobQueue`,
:func:`run_worker`, the job functions (``workers.jobs``) and :func:`collect_files`.
"""

from __future__ import annotations

from workers.intake import Intake, IntakeOptions, Source, Taken, collect_files
from workers.queue import JobQueue, QueueUnavailable
from workers.runner import WorkerProcesses, run_worker

__all__ = [
    "Intake",
    "IntakeOptions",
    "JobQueue",
    "QueueUnavailable",
    "Source",
    "Taken",
    "WorkerProcesses",
    "collect_files",
    "run_worker",
]

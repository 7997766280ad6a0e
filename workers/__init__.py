"""The worker runtime: ``dossier worker`` (an RQ worker with its housekeeping), the job functions, the inbox
watcher and the local Redis of ``make run``.

What the jobs run is the intake chain in :mod:`pipeline` and the application in :mod:`dossier.app`;
RQ finds the job functions by their paths in :mod:`workers.jobs`, which therefore never move.
"""

from __future__ import annotations

from workers.runner import run_worker

__all__ = ["run_worker"]

"""Background work: the intake chain and its parser pool (RQ jobs arrive with issue 3)."""

from __future__ import annotations

from workers.intake import Intake, IntakeOptions, IntakeSummary, Source, collect_files

__all__ = ["Intake", "IntakeOptions", "IntakeSummary", "Source", "collect_files"]

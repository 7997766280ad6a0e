"""An honest ETA for a batch: the work still to come in files to parse *and* OCR pages, at rates learnt
from the batch's own timeline.

Parsing a file and OCR-ing a page cost very different times (a text PDF parses in a fraction of
a second, a scanned page takes seconds), so one "pages per second" over everything done so far is
far off while text files stream through and the scans' pages wait.  Here the elapsed time is fitted
as ``a·files_parsed + b·ocr_pages_done`` over the samples a progress display takes (least squares,
both costs non-negative), and what is left costs ``a·files_left + b·ocr_pages_left``, where the OCR
pages left are those known to wait plus, for files not parsed yet, as many as the parsed files had
on average.  Until there is a rate for what is left (no file parsed yet, or OCR pages waiting and
none done) the answer is None: "estimating…".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sample:
    """What a batch had done at ``t`` seconds after it began."""

    t: float
    files_parsed: int  # files finished (parsed, duplicate or failed)
    ocr_done: int  # pages whose OCR is finished (text or failure)


def sample_of(report: dict[str, Any]) -> Sample:
    """The sample a batch report (:func:`pipeline.batches.batch_report`) gives."""
    files, pages = report["files"], report["pages"]
    return Sample(
        t=float(report["elapsed_s"]),
        files_parsed=files["done"] + files["duplicate"] + files["failed"],
        ocr_done=int(pages.get("ocr", 0)) + pages["failed"],
    )


def costs(samples: Sequence[Sample]) -> tuple[float | None, float | None]:
    """Seconds per parsed file and per OCR page, fitted to the samples (None: not learnt yet)."""
    usable = [s for s in samples if s.t > 0 and (s.files_parsed or s.ocr_done)]
    if not usable:
        return None, None
    ff = sum(s.files_parsed**2 for s in usable)
    oo = sum(s.ocr_done**2 for s in usable)
    fo = sum(s.files_parsed * s.ocr_done for s in usable)
    tf = sum(s.t * s.files_parsed for s in usable)
    to = sum(s.t * s.ocr_done for s in usable)
    det = ff * oo - fo * fo
    if oo == 0:  # no OCR page done yet: all the time went into files
        return tf / ff, None
    if ff == 0:
        return None, to / oo
    if (
        det <= 1e-9 * ff * oo
    ):  # files and pages always in the same proportion (one sample, say): not told apart
        return None, None
    a, b = (tf * oo - to * fo) / det, (to * ff - tf * fo) / det
    if a >= 0 and b >= 0:
        return a, b
    # One cost would come out negative (the mix barely changed): the best fit with it at zero.
    only_files, only_ocr = tf / ff, to / oo
    err_files = sum((s.t - only_files * s.files_parsed) ** 2 for s in usable)
    err_ocr = sum((s.t - only_ocr * s.ocr_done) ** 2 for s in usable)
    return (only_files, 0.0) if err_files <= err_ocr else (0.0, only_ocr)


def eta_seconds(
    samples: Sequence[Sample], *, files_total: int, ocr_pending: int, ocr_known: int | None = None
) -> float | None:
    """Seconds until the batch is done, or None while there is no rate for what is left.

    ``ocr_pending`` pages wait for OCR now; ``ocr_known`` is every OCR page the parsed files
    brought (done, failed and pending; default: the last sample's done plus ``ocr_pending``).
    """
    if not samples or files_total == 0:  # nothing taken in yet: nothing to tell
        return None
    last = samples[-1]
    files_left = max(0, files_total - last.files_parsed)
    if ocr_known is None:
        ocr_known = last.ocr_done + ocr_pending
    if not files_left and not ocr_pending:
        return 0.0
    per_file, per_page = costs(samples)
    if per_file is None and per_page is None:
        return None
    if files_left and (per_file is None or last.files_parsed == 0):
        return None
    expected_pages = ocr_pending + (files_left * ocr_known / last.files_parsed if files_left else 0.0)
    if expected_pages and per_page is None:
        return None  # pages wait for OCR and none is done yet: no rate for them
    seconds = files_left * (per_file or 0.0) + expected_pages * (per_page or 0.0)
    return round(seconds, 1)


class EtaTracker:
    """Keeps one batch's samples as a progress display polls it, and answers the ETA of the latest."""

    def __init__(self, keep: int = 600) -> None:
        self.samples: list[Sample] = []
        self.keep = keep

    def reset(self) -> None:
        """Forget the samples (a new batch is shown)."""
        self.samples.clear()

    def update(self, report: dict[str, Any]) -> float | None:
        """Add the report's sample; the ETA in seconds (None: estimating)."""
        if report["state"] == "done":
            return None
        sample = sample_of(report)
        if not self.samples or sample.t > self.samples[-1].t:
            self.samples.append(sample)
            if len(self.samples) > self.keep:  # thin out the old half, keep the recent ones
                self.samples = self.samples[: self.keep // 2 : 2] + self.samples[self.keep // 2 :]
        pages = report["pages"]
        return eta_seconds(
            self.samples,
            files_total=report["files"]["total"],
            ocr_pending=pages["pending"],
            ocr_known=int(pages.get("ocr", 0)) + pages["failed"] + pages["pending"],
        )


class EtaBook:
    """The trackers of the batches one process reports on (the web's jobs pages poll every 1.5 s, a progress
    bar every 0.5 s): each report of a batch adds a sample and gets the ETA its timeline gives.  The most
    recently reported :data:`size` batches are kept; safe across threads."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._trackers: OrderedDict[int, EtaTracker] = OrderedDict()
        self._lock = threading.Lock()

    def estimate(self, report: dict[str, Any]) -> float | None:
        """The ETA in seconds of the batch ``report`` describes (None: done, or estimating)."""
        batch_id = int(report["id"])
        with self._lock:
            if report["state"] == "done":
                self._trackers.pop(batch_id, None)
                return None
            tracker = self._trackers.pop(batch_id, None) or EtaTracker()
            self._trackers[batch_id] = tracker
            while len(self._trackers) > self.size:
                self._trackers.popitem(last=False)
            return tracker.update(report)

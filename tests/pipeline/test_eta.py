"""The batch ETA (pipeline/eta.py) on a synthetic timeline: text files stream through fast, then files with
many scanned pages arrive late in the run.  The ETA must count the OCR pages still to come (pages, not files)
and say "estimating" until it has a rate for what is left."""

from __future__ import annotations

from dataclasses import dataclass

from dossier.cli.progress import eta_shown, progress_line
from pipeline.eta import EtaBook, EtaTracker, Sample, costs, eta_seconds

PARSE_S = 0.5  # one worker: seconds to parse a file
OCR_S = 4.0  # seconds to OCR one scanned page


@dataclass
class Batch:
    """A batch of files run by one worker that takes OCR pages before new files (as the queue does)."""

    ocr_pages: list[int]  # OCR pages each file turns out to have, in the order the files are parsed

    def timeline(self, step: float = 1.0) -> tuple[list[dict], float]:
        """A batch report every ``step`` seconds, and when the batch ends."""
        events: list[tuple[float, str]] = []  # (time done, "file" | "ocr")
        t = 0.0
        for pages in self.ocr_pages:
            t += PARSE_S
            events.append((t, "file"))
            for _ in range(pages):
                t += OCR_S
                events.append((t, "ocr"))
        end = t
        reports = []
        now = step
        while now < end:
            parsed = sum(1 for at, kind in events if kind == "file" and at <= now)
            ocr_done = sum(1 for at, kind in events if kind == "ocr" and at <= now)
            known = sum(self.ocr_pages[:parsed])
            text_pages = 2 * parsed  # every file also has two text pages, done when it is parsed
            reports.append(
                {
                    "state": "running",
                    "elapsed_s": now,
                    "files": {
                        "total": len(self.ocr_pages),
                        "queued": len(self.ocr_pages) - parsed,
                        "processing": 0,
                        "done": parsed,
                        "duplicate": 0,
                        "failed": 0,
                    },
                    "pages": {
                        "total": text_pages + known,
                        "done": text_pages + ocr_done,
                        "failed": 0,
                        "pending": known - ocr_done,
                        "ocr": ocr_done,
                    },
                    "pages_per_s": (text_pages + ocr_done) / now,
                    "eta_s": None,
                }
            )
            now += step
        return reports, end


def _pages_per_s_eta(report: dict) -> float:
    """The old ETA: every page at the batch's average pages per second so far."""
    pages, files = report["pages"], report["files"]
    rate = pages["done"] / report["elapsed_s"]
    unfinished = files["queued"] + files["processing"]
    parsed = max(1, files["done"] + files["failed"])
    return (pages["pending"] + round(unfinished * pages["total"] / parsed)) / rate


def test_late_scans_count_by_their_pages():
    """40 text files, then 4 scans of 12 pages each.

    While scans are parsed, the ETA never falls below the OCR pages known to wait (the old pages-per-second
    ETA did: text pages made the rate look fast); once every file is parsed, it is within 15% of the truth.
    Pages of files not parsed yet cannot be known: they are expected at the parsed files' average.
    """
    batch = Batch([0] * 40 + [12] * 4)
    reports, end = batch.timeline()
    tracker = EtaTracker()
    checked = below = old_below = 0
    for report in reports:
        eta = tracker.update(report)
        files, pages = report["files"], report["pages"]
        truth = end - report["elapsed_s"]
        if files["done"] == 0:
            assert eta is None  # nothing parsed yet: no rate
            continue
        if pages["pending"] and not pages["ocr"]:
            assert eta is None  # pages wait for OCR and none is done yet: "estimating"
            continue
        assert eta is not None
        known = pages["pending"] * OCR_S + files["queued"] * PARSE_S  # what is certainly left
        below += eta < 0.85 * known
        old_below += _pages_per_s_eta(report) < 0.85 * known
        if files["done"] == files["total"]:
            assert abs(eta - truth) <= 0.15 * truth + OCR_S, (report["elapsed_s"], eta, truth)
            checked += 1
    assert checked >= 10 and below == 0
    assert old_below >= 10  # the timeline does show the old ETA's fault


def test_estimating_until_an_ocr_rate_exists():
    """A scan is parsed and its pages wait, none OCR-ed yet: no rate for them, so "estimating"."""
    samples = [Sample(t=1.0, files_parsed=2, ocr_done=0), Sample(t=2.0, files_parsed=4, ocr_done=0)]
    assert eta_seconds(samples, files_total=10, ocr_pending=0) == 3.0  # text files only: 6 files at 0.5 s
    assert eta_seconds(samples, files_total=10, ocr_pending=5) is None
    assert eta_seconds([], files_total=10, ocr_pending=0) is None
    # The batch is still taking its files in (none counted yet): not "0:00".
    assert eta_seconds([Sample(t=1.0, files_parsed=0, ocr_done=0)], files_total=0, ocr_pending=0) is None
    assert eta_seconds(samples, files_total=4, ocr_pending=0) == 0.0


def test_costs_are_fitted_per_file_and_per_page():
    samples = [
        Sample(t=PARSE_S * f + OCR_S * o, files_parsed=f, ocr_done=o)
        for f, o in ((2, 0), (4, 0), (5, 3), (6, 9))
    ]
    per_file, per_page = costs(samples)
    assert per_file is not None and per_page is not None
    assert abs(per_file - PARSE_S) < 1e-6 and abs(per_page - OCR_S) < 1e-6
    # Files not parsed yet are expected to bring as many OCR pages as the parsed ones did on average.
    eta = eta_seconds(samples[-1:] and samples, files_total=12, ocr_pending=0, ocr_known=9)
    assert eta == round(6 * PARSE_S + (6 * 9 / 6) * OCR_S, 1)


def test_the_progress_line_says_estimating():
    report = Batch([0, 3]).timeline()[0][0]
    assert "估算中… estimating…" in progress_line({**report, "eta_s": None})
    assert "1:05" in progress_line({**report, "eta_s": 65.2})
    assert eta_shown(3725) == "1:02:05"
    assert "估算中" not in progress_line({**report, "state": "done", "eta_s": None})


def _report(batch_id: int, t: float, parsed: int, ocr: int, pending: int, total: int = 10) -> dict:
    return {
        "id": batch_id,
        "state": "running",
        "elapsed_s": t,
        "files": {
            "total": total,
            "queued": total - parsed,
            "processing": 0,
            "done": parsed,
            "duplicate": 0,
            "failed": 0,
        },
        "pages": {
            "total": parsed + ocr + pending,
            "done": parsed + ocr,
            "failed": 0,
            "pending": pending,
            "ocr": ocr,
        },
    }


def test_one_look_cannot_tell_files_from_pages_so_it_says_estimating():
    """A single report with files parsed and OCR pages done: the two costs cannot be told apart."""
    assert EtaTracker().update(_report(1, 30.0, parsed=10, ocr=5, pending=5)) is None
    # Text files only: one look is enough (every second went into files).
    assert EtaTracker().update(_report(1, 10.0, parsed=5, ocr=0, pending=0)) == 10.0


def test_the_book_keeps_a_timeline_per_batch():
    book = EtaBook(size=2)
    assert book.estimate(_report(1, 10.0, parsed=10, ocr=0, pending=20)) is None  # pages wait, none done yet
    assert (
        book.estimate(_report(2, 5.0, parsed=5, ocr=0, pending=0)) == 5.0
    )  # another batch, its own timeline
    # Batch 1's OCR under way: 2 s a page after 1 s a file — 18 pages left, 36 s.
    assert book.estimate(_report(1, 14.0, parsed=10, ocr=2, pending=18)) == 36.0
    book.estimate(_report(3, 1.0, parsed=1, ocr=0, pending=0))  # a third batch pushes out the oldest (2)
    assert book.estimate(_report(2, 6.0, parsed=6, ocr=1, pending=3)) is None  # batch 2 starts afresh
    assert book.estimate({**_report(1, 50.0, parsed=10, ocr=20, pending=0), "state": "done"}) is None

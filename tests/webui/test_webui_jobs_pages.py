"""The batch page a page at a time, with file names instead of command-line paths; which failures a retry
can fix (one table: pipeline.failures, used by the page, the API and the app)."""

from __future__ import annotations

import re

import pytest

import records
from foundation.messages import msg
from pipeline.batches import file_name_parts
from pipeline.failures import is_retryable

FILES = 120  # 50 + 50 + 20


@pytest.fixture(scope="module")
def big_batch(corpus_home) -> int:
    """A finished CLI batch of 120 files refused before they were stored (as a big folder of bad files)."""
    d = corpus_home["dossier"]
    too_large = msg("pipeline.too_large", mb=200).dumps()
    with d.sessions() as session:
        batch = records.IngestBatch(source="cli", created_by="admin", status="done", total=FILES)
        session.add(batch)
        session.flush()
        for n in range(FILES):
            session.add(
                records.IngestJob(
                    batch_id=batch.id,
                    filename=f"../shared/corpus/dev/bad/大文件_{n:03d}.pdf",
                    status="failed",
                    error=too_large,
                )
            )
        session.commit()
        return int(batch.id)


def _rows(html: str) -> list[str]:
    body = html.split('data-list="items"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr class="item item-[a-z_]+">.*?</tr>', body, re.S)


def test_a_big_batch_is_paged_with_file_names(admin, big_batch):
    """GIVEN 120 files WHEN the batch page is opened THEN it shows 50 rows a page (3 pages), each file by its
    name with its folder muted (the whole path on hover), and the live script knows the page it shows."""
    first = admin.get(f"/jobs/{big_batch}").get_data(as_text=True)
    rows = _rows(first)
    assert len(rows) == 50 and "大文件_000.pdf" in rows[0] and "大文件_049.pdf" in rows[-1]
    assert 'title="../shared/corpus/dev/bad/大文件_000.pdf">大文件_000.pdf</span>' in rows[0]
    assert '<span class="muted file-folder">../shared/corpus/dev/bad</span>' in rows[0]
    assert ">../shared/corpus/dev/bad/大文件_000.pdf<" not in first
    assert 'data-page="1" data-page-size="50"' in first and "第 1 / 3 页" in first
    assert f'<a rel="next" href="/jobs/{big_batch}?page=2">' in first

    third = admin.get(f"/jobs/{big_batch}?page=3").get_data(as_text=True)
    rows = _rows(third)
    assert len(rows) == 20 and "大文件_100.pdf" in rows[0] and "大文件_119.pdf" in rows[-1]
    assert f'<a rel="prev" href="/jobs/{big_batch}?page=2">' in third and 'rel="next"' not in third
    # a page past the end shows the last one; the failures list names every file, none retryable (too large)
    beyond = admin.get(f"/jobs/{big_batch}?page=99&lang=en").get_data(as_text=True)
    assert 'data-page="3"' in beyond and "Page 3 of 3" in beyond
    assert (
        "data-retry-all hidden" in beyond
        and 'class="inline retry-form retry-one' not in beyond.split("<template")[0]
    )
    status = admin.get(f"/api/batches/{big_batch}").get_json()
    assert len(status["items"]) == FILES and len(status["failures"]) == FILES
    assert (
        status["items"][0]["name"] == "大文件_000.pdf"
        and status["items"][0]["folder"] == "../shared/corpus/dev/bad"
    )
    assert not any(f["retryable"] for f in status["failures"])


def test_file_name_parts():
    assert file_name_parts("../shared/corpus/dev/bad/empty.pdf") == {
        "name": "empty.pdf",
        "folder": "../shared/corpus/dev/bad",
    }
    assert file_name_parts("C:\\scans\\合同.pdf") == {"name": "合同.pdf", "folder": "C:/scans"}
    assert file_name_parts("报价单.xlsx") == {"name": "报价单.xlsx", "folder": ""}
    assert file_name_parts(None) == {"name": "", "folder": ""}


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [
        (msg("pipeline.parse.timeout", seconds="120"), True),
        (msg("pipeline.ocr.timeout", seconds="60"), True),
        (msg("pipeline.parse.crashed"), True),
        (msg("pipeline.ocr.failed", kind="RuntimeError"), True),  # the OCR engine crashed
        (msg("workers.retries_exhausted", detail="database is locked"), True),  # a service was away
        (msg("pipeline.queue.unreachable", url="redis://x", detail="refused"), True),
        (msg("pipeline.ocr_deferred"), True),
        (msg("ingest.file.empty"), False),
        (msg("pipeline.empty_file"), False),
        (msg("ingest.pdf.encrypted"), False),
        (msg("ingest.office.encrypted"), False),
        (msg("ingest.unsupported", mime="application/x-foo"), False),
        (msg("pipeline.too_large", mb=200), False),
        (msg("ingest.pdf.damaged"), False),
        (msg("ingest.zip.ratio", ratio=100, name="x"), False),
        # an OCR page failure is as retryable as the reason it wraps
        (
            msg("pipeline.ocr.page_failed", page=3, error=msg("pipeline.ocr.timeout", seconds="60").dumps()),
            True,
        ),
        (
            msg("pipeline.ocr.page_failed", page=3, error=msg("ingest.ocr.unsupported", format="x").dumps()),
            False,
        ),
        ("an old plain-text reason", True),  # nothing says a retry cannot help
        (None, True),
    ],
)
def test_which_failures_a_retry_can_fix(reason, retryable):
    stored = reason.dumps() if hasattr(reason, "dumps") else reason
    assert is_retryable(stored) is retryable

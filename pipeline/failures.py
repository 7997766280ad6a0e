"""Which recorded failures a retry can fix: the one table the web page, the API and the app consult.

A failure reason is kept in the records as a stored message (``IngestJob.error``, ``Document.error``,
``Page.ocr_error``: :func:`foundation.messages.stored`). Some say something about the moment — a
parse or OCR that ran out of time, a parser process or OCR engine that crashed, a service that was
away (Redis, the database: retries exhausted), OCR skipped at intake, no OCR engine installed yet —
and running the same file again can succeed. The others say something about the *file* — empty,
encrypted without a password, an unsupported or damaged format, too large, a zip bomb — and the
same bytes fail the same way: those are not offered for retry; the file must be fixed and offered again.

A reason that is not a stored message (older plain text) is treated as retryable: nothing says otherwise.
"""

from __future__ import annotations

from foundation.messages import Message, load_stored

#: Message ids of failures that a retry of the same file can fix.
RETRYABLE = frozenset(
    {
        "pipeline.parse.timeout",
        "pipeline.parse.crashed",
        "pipeline.parse.out_of_memory",
        "pipeline.ocr.timeout",
        "pipeline.ocr.failed",
        "pipeline.ocr.nothing",
        "pipeline.ocr_deferred",
        "pipeline.queue.unreachable",
        "pipeline.file_vanished",
        "pipeline.version_of.busy",
        "workers.retries_exhausted",
        "workers.no_original",
        "ingest.timeout",
        "ingest.legacy.timeout",
        "ingest.legacy.doc.needs_libreoffice",
        "ingest.legacy.xls.needs_libreoffice",
        "ingest.legacy.ppt.needs_libreoffice",
        "ingest.ocr.failed",
        "ingest.ocr.no_engine",
        "ingest.ocr.engine_missing",
        "ingest.ocr.render_failed",
        "ingest.file.out_of_memory",
    }
)

#: Wrappers whose parameter ``error`` holds the real reason (an OCR page failure).
_WRAPPERS = {"pipeline.ocr.page_failed": "error"}


def failure_id(reason: str | Message | None) -> str | None:
    """The message id of a recorded failure reason (unwrapping "page 3: …"); None for plain text or none."""
    message = reason if isinstance(reason, Message) else load_stored(reason)
    while message is not None and message.id in _WRAPPERS:
        inner = message.params.get(_WRAPPERS[message.id])
        message = (
            inner if isinstance(inner, Message) else load_stored(inner if isinstance(inner, str) else None)
        )
    return message.id if message is not None and message.id else None


def is_retryable(reason: str | Message | None) -> bool:
    """Whether running the same file again can fix this failure (see the module's docstring)."""
    if reason is None or reason == "":
        return True
    message_id = failure_id(reason)
    if message_id is None:
        return not (isinstance(reason, Message) or load_stored(reason) is not None)  # plain text: maybe
    return message_id in RETRYABLE

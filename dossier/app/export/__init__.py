"""Exports of search results: CSV, XLSX, JSON Lines and a ZIP of the originals (issue 6).

Callers use what is listed in ``__all__``; :class:`ExportService` is the ``exports`` service of
:class:`dossier.app.services.Dossier`::

    plan = dossier.exports.plan(request, principal, "csv")        # hits, limits, refusal reason
    plan, chunks = dossier.exports.stream(request, principal, "csv", base_url=...)
    for chunk in chunks: out.write(chunk)                         # constant memory; audited at the end

Every format is produced from :func:`iter_rows` — the backend's hits in the request's
order, joined with the records batch by batch, re-checked against the caller's
permissions — and written as a stream of byte chunks.
"""

from __future__ import annotations

from dossier.app.export._names import UniqueNames, extension_of, safe_part
from dossier.app.export._rows import ExportRow, iter_rows, plain_text
from dossier.app.export._service import (
    FORMATS,
    ExportFormat,
    ExportFormatError,
    ExportGone,
    ExportLimits,
    ExportNotReady,
    ExportPlan,
    ExportRefused,
    ExportRevoked,
    ExportService,
    check_format,
    default_base_url,
    export_filename,
    filters_of,
    request_from_json,
    request_to_json,
    rights_of,
)
from dossier.app.export._tabular import (
    BOM,
    COLUMNS,
    FORMULA_START,
    csv_chunks,
    header,
    jsonl_chunks,
    neutralise,
    xlsx_chunks,
)
from dossier.app.export._zip import MANIFEST_COLUMNS, member_path, zip_chunks

__all__ = [
    "BOM",
    "COLUMNS",
    "FORMATS",
    "FORMULA_START",
    "MANIFEST_COLUMNS",
    "ExportFormat",
    "ExportFormatError",
    "ExportGone",
    "ExportLimits",
    "ExportNotReady",
    "ExportPlan",
    "ExportRefused",
    "ExportRevoked",
    "ExportRow",
    "ExportService",
    "UniqueNames",
    "check_format",
    "csv_chunks",
    "default_base_url",
    "export_filename",
    "extension_of",
    "filters_of",
    "header",
    "iter_rows",
    "jsonl_chunks",
    "member_path",
    "neutralise",
    "plain_text",
    "request_from_json",
    "request_to_json",
    "rights_of",
    "safe_part",
    "xlsx_chunks",
    "zip_chunks",
]

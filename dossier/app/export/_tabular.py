"""CSV, XLSX and JSON Lines, each written as a stream of byte chunks from :class:`ExportRow` values.

- **CSV** is UTF-8 with a BOM and CRLF line ends (Excel on Windows then reads Chinese
  correctly); a text cell that begins with ``= + - @``, a tab or a carriage return gets a
  leading ``'`` so no spreadsheet runs it as a formula.
- **XLSX** is written by openpyxl in write-only mode (rows go to a temporary file, so memory
  stays flat): a bold, frozen header with a filter, column widths, dates as dates, amounts,
  sizes and scores as numbers, text cells typed as text (a text cell is never evaluated, so
  ``=…`` titles stay inert and are kept as written), and the link column as ``HYPERLINK``
  formulas built from our own URLs only.  Real cell hyperlinks would be kept in memory until
  the end and Excel stops at 65,530 of them per sheet; the formula has neither limit.  More
  than 1,048,575 hits continue on further sheets.
- **JSON Lines**: one JSON object per document and line (UTF-8, ``\\n``), with its entities.

An activity or comment hit is a row too: ``id`` is then 0 (the CSV/XLSX id cell holds the
activity's id), ``kind`` says which (the 记录类型 column: 文档 for documents, 电话, 拜访 … for
activities) and ``activity`` is its id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from dossier.app.export._rows import ExportRow

__all__ = [
    "ARCHIVED_CELL",
    "BOM",
    "COLUMNS",
    "csv_chunks",
    "header",
    "jsonl_chunks",
    "neutralise",
    "xlsx_chunks",
]

#: The columns of CSV and XLSX: (key, Chinese label, English label, XLSX width).
COLUMNS: tuple[tuple[str, str, str, float], ...] = (
    ("id", "编号", "id", 8),
    ("title", "标题", "title", 40),
    ("customers", "客户", "customers", 30),
    ("doc_type", "文档类型", "type", 10),
    ("date", "文档日期", "date", 12),
    ("amount", "金额（元）", "amount (CNY)", 16),
    ("tags", "标签", "tags", 16),
    ("filename", "文件名", "file name", 36),
    ("size", "大小（字节）", "size (bytes)", 13),
    ("pages", "页数", "pages", 7),
    ("score", "相关度", "score", 9),
    ("snippet", "摘要", "snippet", 60),
    ("url", "链接", "link", 42),
    ("archived", "已归档", "archived", 9),
    ("stages", "销售阶段", "sales stage", 14),
    ("importance", "重要性", "importance", 8),
    ("customer_tags", "客户标签", "customer tags", 20),
    ("kind", "记录类型", "kind", 10),
)
#: The ``archived`` cell of CSV and XLSX rows.
ARCHIVED_CELL = {True: "是", False: "否"}

#: What a spreadsheet treats as the start of a formula (or that Excel strips before one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Rows written between two yielded chunks.
ROWS_PER_CHUNK = 500

BOM = "\ufeff".encode()


def header() -> list[str]:
    """The header row: ``编号 id``, ``标题 title`` …"""
    return [f"{zh} {en}" for _key, zh, en, _w in COLUMNS]


_FORMULA_CHARS = frozenset(FORMULA_START)


def neutralise(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + value if value[:1] in _FORMULA_CHARS else value


def _joined(values: Iterable[str]) -> str:
    return "; ".join(values)


def _csv_cells(row: ExportRow) -> list[Any]:
    return [
        row.id or row.activity,
        neutralise(row.title),
        neutralise(_joined(row.customers)),
        row.doc_type_label,
        row.date or "",
        f"{row.amount:.2f}" if row.amount is not None else "",
        neutralise(_joined(row.tags)),
        neutralise(row.filename),
        row.size,
        row.pages,
        row.score,
        neutralise(row.snippet),
        row.url,
        ARCHIVED_CELL[row.archived],
        neutralise(_joined(row.stages)),
        _joined(row.importance),
        neutralise(_joined(row.customer_tags)),
        row.kind_label,
    ]


def csv_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """The CSV file (BOM, header, CRLF), a chunk every few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header())
    yield BOM + _take(buffer)
    source = iter(rows)
    while True:
        cells = [_csv_cells(row) for row in islice(source, ROWS_PER_CHUNK)]
        if not cells:
            return
        writer.writerows(cells)
        yield _take(buffer)


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8", "replace")
    buffer.seek(0)
    buffer.truncate()
    return data


def json_object(row: ExportRow) -> dict[str, Any]:
    """One JSON Lines record (also the shape of a ZIP manifest entry, less the entities)."""
    return {
        "id": row.id,
        "title": row.title,
        "filename": row.filename,
        "customer": row.customers[0] if row.customers else None,
        "customers": list(row.customers),
        "doc_type": row.doc_type,
        "doc_type_label": row.doc_type_label,
        "date": row.date,
        "tags": list(row.tags),
        "stages": list(row.stages),
        "importance": list(row.importance),
        "customer_tags": list(row.customer_tags),
        "amount": f"{row.amount:.2f}" if row.amount is not None else None,
        "size": row.size,
        "pages": row.pages,
        "mime": row.mime,
        "sha256": row.sha256,
        "status": row.status,
        "score": row.score,
        "snippet": row.snippet_html,
        "snippet_text": row.snippet,
        "url": row.url,
        "entities": row.entities if row.entities is not None else {},
        "archived": row.archived,
        "kind": row.kind,
        "activity": row.activity,
    }


def jsonl_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """The JSON Lines file: one document per line, a chunk every few hundred rows."""
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(json_object(row), ensure_ascii=False, default=str))
        if len(lines) >= ROWS_PER_CHUNK:
            yield ("\n".join(lines) + "\n").encode("utf-8", "replace")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8", "replace")


# -- XLSX --------------------------------------------------------------------------------------

#: Data rows per sheet (Excel's 1,048,576 rows less the header).
SHEET_ROWS = 1_048_575
SHEET_TITLE = "检索结果"
#: Longest text one cell holds.
CELL_MAX = 32_767


def _date(value: str | None) -> dt.date | str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value  # a partial or odd date stays text rather than being guessed


class _XlsxSheet:
    """A write-only workbook and its current sheet, with the cell types and styles set up once."""

    def __init__(self) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.Cell = WriteOnlyCell
        self.illegal = ILLEGAL_CHARACTERS_RE
        self.bold = Font(bold=True)
        self.letter = get_column_letter
        self.book = Workbook(write_only=True)
        self.sheets = 0
        self.rows = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        title = SHEET_TITLE if self.sheets == 1 else f"{SHEET_TITLE} ({self.sheets})"
        self.sheet = self.book.create_sheet(title)
        for n, (_key, _zh, _en, width) in enumerate(COLUMNS, 1):
            self.sheet.column_dimensions[self.letter(n)].width = width
        self.sheet.freeze_panes = "A2"
        self.sheet.auto_filter.ref = f"A1:{self.letter(len(COLUMNS))}1"
        cells = []
        for text in header():
            cell = self.Cell(self.sheet, value=text)
            cell.font = self.bold
            cells.append(cell)
        self.sheet.append(cells)
        self.rows = 0

    def text(self, value: str) -> Any:
        """A text cell's value: illegal XML characters dropped, at most CELL_MAX long, never a formula."""
        value = self.illegal.sub("", value)[:CELL_MAX]
        if value.startswith("="):  # openpyxl would store it as a formula; type it as text instead
            cell = self.Cell(self.sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def styled(self, value: Any, number_format: str, style: str | None = None) -> Any:
        cell = self.Cell(self.sheet, value=value)
        cell.number_format = number_format
        if style:
            cell.style = style
        return cell

    def append(self, row: ExportRow) -> None:
        if self.rows >= SHEET_ROWS:
            self._new_sheet()
        date = _date(row.date)
        url = row.url.replace('"', "%22")
        self.sheet.append(
            [
                row.id or row.activity,
                self.text(row.title),
                self.text(_joined(row.customers)),
                self.text(row.doc_type_label),
                self.styled(date, "yyyy-mm-dd")
                if isinstance(date, dt.date)
                else (self.text(date) if date else None),
                self.styled(float(row.amount), "#,##0.00") if row.amount is not None else None,
                self.text(_joined(row.tags)),
                self.text(row.filename),
                self.styled(row.size, "#,##0"),
                row.pages,
                self.styled(row.score, "0.0000"),
                self.text(row.snippet),
                self.styled(f'=HYPERLINK("{url}","{url}")', "General", "Hyperlink"),
                ARCHIVED_CELL[row.archived],
                self.text(_joined(row.stages)),
                self.text(_joined(row.importance)),
                self.text(_joined(row.customer_tags)),
                row.kind_label,
            ]
        )
        self.rows += 1


def xlsx_chunks(rows: Iterable[ExportRow], tmp_dir: Path | None = None) -> Iterator[bytes]:
    """The XLSX file: built in a temporary file (nothing is yielded until every row is in), then read out."""
    sheet = _XlsxSheet()
    for row in rows:
        sheet.append(row)
    fd, name = tempfile.mkstemp(prefix="dossier-export-", suffix=".xlsx", dir=tmp_dir)
    os.close(fd)
    path = Path(name)
    try:
        sheet.book.save(path)
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk
    finally:
        path.unlink(missing_ok=True)

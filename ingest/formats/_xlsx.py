"""XLSX via openpyxl (read-only, cached values), one page per sheet, cells TAB-joined per row.

Why not ``unstructured.partition_xlsx``: it goes through pandas and loses number formats, so
``1234.5`` formatted ``#,##0.00`` would read ``1234.5`` instead of ``1,234.50`` — and users
search for the figures they see.  :func:`format_cell` applies the common Excel formats
(thousands separators, decimals, percent, currency/literal affixes, date patterns).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from foundation.messages import msg
from ingest._errors import LimitExceeded
from ingest._model import Page
from ingest.formats._ooxml import check_package
from ingest.formats._types import Extraction, ParseContext

MAX_CELLS = 2_000_000
MAX_EMPTY_ROW_RUN = 10_000  # stop a sheet whose declared size is inflated by empty rows

_QUOTED = re.compile(r'"([^"]*)"')
_BRACKET = re.compile(r"\[[^\]]*\]")
_DATE_TOKEN = re.compile(r"(yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm)", re.I)


def _split_sections(fmt: str) -> list[str]:
    sections: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in fmt:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            sections.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    sections.append("".join(buf))
    return sections


def _literalize(section: str) -> str:
    """Resolve escapes, quotes, padding and fill codes into plain characters."""
    out, i = [], 0
    while i < len(section):
        ch = section[i]
        if ch == "\\" and i + 1 < len(section):
            out.append(section[i + 1])
            i += 2
        elif ch == "_" and i + 1 < len(section):
            out.append(" ")
            i += 2
        elif ch == "*" and i + 1 < len(section):
            i += 2
        elif ch == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            out.append("\x01" + section[i + 1 : end] + "\x02")
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _currency(section: str) -> str:
    def repl(m: re.Match[str]) -> str:
        inner = m.group(0)[1:-1]
        if inner.startswith("$"):
            return '"' + inner[1:].split("-")[0] + '"'
        return ""

    return _BRACKET.sub(repl, section)


def _format_number(value: float, fmt: str) -> str:
    sections = _split_sections(fmt)
    if value < 0 and len(sections) >= 2:
        section, value = sections[1], abs(value)
    elif value == 0 and len(sections) >= 3:
        section = sections[2]
    else:
        section = sections[0]
    section = _literalize(_currency(section))
    # Only the parts outside quoted literals carry number codes.
    plain = re.sub("\x01[^\x02]*\x02", lambda m: "\x03" * len(m.group(0)), section)
    span = re.search(r"[0#?][0#?,.]*(E[+-][0#]+)?|\.[0#?]+", plain)
    if not span:
        return section.replace("\x01", "").replace("\x02", "").strip() or _general(value)
    code = span.group(0)
    if "E" in code:
        return _general(value)
    decimals = len(code.split(".", 1)[1]) if "." in code else 0
    if "%" in plain:
        value *= 100
    grouped = "," in code.split(".")[0].strip(",")
    trailing_commas = len(code.split(".")[0]) - len(code.split(".")[0].rstrip(","))
    value /= 1000**trailing_commas
    number = f"{value:,.{decimals}f}" if grouped else f"{value:.{decimals}f}"
    text = section[: span.start()] + number + section[span.end() :]
    return text.replace("\x01", "").replace("\x02", "").strip()


def _general(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10g}"
    return text


def _format_date(value: dt.datetime | dt.date | dt.time, fmt: str) -> str:
    section = _literalize(_BRACKET.sub("", _split_sections(fmt)[0]))
    tokens = _DATE_TOKEN.split(section)
    out, last_was_hour = [], False
    for i, tok in enumerate(tokens):
        low = tok.lower()
        if i % 2 == 0:
            out.append(tok.replace("\x01", "").replace("\x02", ""))
            continue
        get = lambda attr: getattr(value, attr, 0)  # noqa: E731
        nxt = "".join(tokens[i + 1 :]).lower()
        minute = low in ("m", "mm") and (last_was_hour or nxt.lstrip(":").startswith("s"))
        if low == "yyyy":
            out.append(f"{get('year'):04d}")
        elif low == "yy":
            out.append(f"{get('year') % 100:02d}")
        elif minute:
            out.append(f"{get('minute'):02d}" if low == "mm" else str(get("minute")))
        elif low == "mmmm":
            out.append(value.strftime("%B") if not isinstance(value, dt.time) else "")
        elif low == "mmm":
            out.append(value.strftime("%b") if not isinstance(value, dt.time) else "")
        elif low == "mm":
            out.append(f"{get('month'):02d}")
        elif low == "m":
            out.append(str(get("month")))
        elif low in ("dddd", "ddd"):
            out.append(
                value.strftime("%A" if low == "dddd" else "%a") if not isinstance(value, dt.time) else ""
            )
        elif low == "dd":
            out.append(f"{get('day'):02d}")
        elif low == "d":
            out.append(str(get("day")))
        elif low == "hh":
            out.append(f"{get('hour'):02d}")
        elif low == "h":
            out.append(str(get("hour")))
        elif low == "ss":
            out.append(f"{get('second'):02d}")
        elif low == "s":
            out.append(str(get("second")))
        else:
            out.append(tok)
        last_was_hour = low in ("h", "hh")
    return "".join(out).strip()


def format_cell(value: Any, number_format: str | None) -> str:
    """A cell value as Excel displays it under ``number_format`` (common formats only)."""
    fmt = number_format or "General"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        if fmt == "General" or not _DATE_TOKEN.search(_QUOTED.sub("", fmt)):
            if isinstance(value, dt.datetime) and value.time() == dt.time(0):
                return value.date().isoformat()
            return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
        return _format_date(value, fmt)
    if isinstance(value, int | float):
        if fmt in ("General", "@"):
            return _general(value)
        try:
            return _format_number(float(value), fmt)
        except (ValueError, IndexError):
            return _general(value)
    return str(value)


class XlsxExtractor:
    """Excel workbooks (.xlsx/.xlsm): values as displayed, one page per sheet."""

    name = "xlsx"
    formats = frozenset({"xlsx"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Each sheet's non-empty rows, cells TAB-joined; trailing empty cells dropped."""
        check_package(data, ctx.limits)
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = wb.worksheets
            if len(sheets) > ctx.limits.max_pages:
                raise LimitExceeded(
                    msg("ingest.xlsx.too_many_sheets", count=len(sheets), limit=ctx.limits.max_pages)
                )
            pages, warnings, cells = [], [], 0
            for number, ws in enumerate(sheets, 1):
                lines, empty_run = [], 0
                for row in ws.iter_rows():
                    values = [format_cell(c.value, getattr(c, "number_format", None)) for c in row]
                    cells += len(values)
                    while values and not values[-1].strip():
                        values.pop()
                    if values:
                        lines.append("\t".join(" ".join(v.split()) for v in values))
                        empty_run = 0
                    else:
                        empty_run += 1
                    if empty_run > MAX_EMPTY_ROW_RUN or cells > MAX_CELLS:
                        warnings.append(msg("ingest.xlsx.sheet_truncated", sheet=ws.title).dumps())
                        break
                pages.append(Page(number=number, text="\n".join(lines)))
            names = [ws.title for ws in sheets]
        finally:
            wb.close()
        title = ""
        try:
            title = wb.properties.title or ""
        except AttributeError:
            title = ""
        return Extraction(
            pages=pages or [Page(number=1, text="")],
            title=title,
            warnings=warnings,
            metadata={"sheets": "\t".join(names)},
        )


EXTRACTORS = (XlsxExtractor(),)

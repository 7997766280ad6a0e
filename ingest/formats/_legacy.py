"""Legacy Office (.doc/.xls/.ppt, OLE2): converted by LibreOffice when ``soffice`` is installed.

The conversion runs headless in a temporary directory with its own profile and a timeout;
the OOXML result is handed back for the facade to parse with the DOCX/XLSX/PPTX extractor.  Without LibreOffice the file is
refused with a message that says what to install.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from foundation.messages import msg
from ingest._errors import BrokenFile, ParseTimeout, UnsupportedFile
from ingest.formats._types import Extraction, ParseContext

_TARGET = {"doc": "docx", "xls": "xlsx", "ppt": "pptx"}
# format -> (message without LibreOffice, message when the conversion fails)
_REFUSALS = {
    "doc": ("ingest.legacy.doc.needs_libreoffice", "ingest.legacy.doc.unconvertible"),
    "xls": ("ingest.legacy.xls.needs_libreoffice", "ingest.legacy.xls.unconvertible"),
    "ppt": ("ingest.legacy.ppt.needs_libreoffice", "ingest.legacy.ppt.unconvertible"),
}


class LegacyOfficeExtractor:
    """Word 97-2003, Excel 97-2003 and PowerPoint 97-2003 files."""

    name = "legacy-office"
    formats = frozenset({"doc", "xls", "ppt"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Convert to OOXML with LibreOffice; the facade then parses the conversion (``Extraction.converted``)."""
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if not soffice:
            raise UnsupportedFile(
                ctx.mime,
                msg(_REFUSALS[ctx.format][0]),
            )
        target = _TARGET[ctx.format]
        with tempfile.TemporaryDirectory(prefix="dossier-lo-") as tmp:
            src = Path(tmp) / f"input.{ctx.format}"
            src.write_bytes(data)
            cmd = [
                soffice,
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--norestore",
                "--convert-to",
                target,
                "--outdir",
                tmp,
                str(src),
            ]
            try:
                subprocess.run(
                    cmd, capture_output=True, timeout=min(ctx.limits.parse_timeout_s, 300), check=False
                )
            except subprocess.TimeoutExpired:
                raise ParseTimeout(msg("ingest.legacy.timeout", format=ctx.format)) from None
            out = Path(tmp) / f"input.{target}"
            if not out.is_file():
                raise BrokenFile(msg(_REFUSALS[ctx.format][1]))
            converted = out.read_bytes()
        return Extraction(pages=[], converted=(target, converted))  # the facade parses the OOXML


EXTRACTORS = (LegacyOfficeExtractor(),)

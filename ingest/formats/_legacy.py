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

from ingest._errors import BrokenFile, ParseTimeout, UnsupportedFile
from ingest.formats._types import Extraction, ParseContext

_TARGET = {"doc": "docx", "xls": "xlsx", "ppt": "pptx"}
_NAMES = {
    "doc": "旧版 Word 文档（.doc）",
    "xls": "旧版 Excel 表格（.xls）",
    "ppt": "旧版 PowerPoint 演示文稿（.ppt）",
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
                f"{_NAMES[ctx.format]}需要安装 LibreOffice 才能读取，或请另存为 {_TARGET[ctx.format]} / "
                f"legacy .{ctx.format} needs LibreOffice (or save it as .{_TARGET[ctx.format]})",
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
                raise ParseTimeout(
                    f"LibreOffice 转换超时 / LibreOffice conversion of .{ctx.format} timed out"
                ) from None
            out = Path(tmp) / f"input.{target}"
            if not out.is_file():
                raise BrokenFile(
                    f"{_NAMES[ctx.format]}无法转换（文件可能已损坏）/ LibreOffice could not convert this .{ctx.format}"
                )
            converted = out.read_bytes()
        return Extraction(pages=[], converted=(target, converted))  # the facade parses the OOXML


EXTRACTORS = (LegacyOfficeExtractor(),)

"""Safety checks for OOXML packages (DOCX/PPTX/XLSX) before any XML parser sees them.

OOXML never needs a DTD, so a part that declares one is an entity-expansion ("billion
laughs") or external-entity (XXE) attack and the file is refused.  Expanded sizes are counted
from the real bytes, not the ZIP headers.
"""

from __future__ import annotations

import io
import re
import zipfile

from foundation.messages import msg
from ingest._errors import BrokenFile, LimitExceeded
from ingest._limits import Limits

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)
_CHUNK = 1 << 16


def check_package(data: bytes, limits: Limits) -> None:
    """Raise if the package is damaged, declares a DTD, or expands beyond the limits."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BrokenFile(msg("ingest.office.incomplete")) from None
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > 10 * limits.zip_max_members:
            raise LimitExceeded(msg("ingest.office.too_many_parts"))
        for info in infos:
            if info.is_dir():
                continue
            is_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
            seen = 0
            head = b""
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(_CHUNK):
                        seen += len(chunk)
                        total += len(chunk)
                        if is_xml and len(head) < _CHUNK:
                            head += chunk[: _CHUNK - len(head)]
                        if total > limits.zip_max_total_bytes:
                            raise LimitExceeded(msg("ingest.office.too_large"))
                        if seen > (1 << 20) and seen > limits.zip_max_ratio * max(info.compress_size, 1):
                            raise LimitExceeded(msg("ingest.office.ratio"))
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
                raise BrokenFile(msg("ingest.office.damaged", detail=exc)) from None
            if is_xml and _DTD.search(head):
                raise BrokenFile(msg("ingest.office.dtd"))

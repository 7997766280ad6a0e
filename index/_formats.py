"""File formats and scans: what kind of file an entry came as, for the ``format`` and ``scan`` filters and facets.

The format is a coarse family people pick from (PDF, Word, Excel …), read from the stored
MIME type first and the file name's extension where the type says nothing (``application/
octet-stream``).  Both backends store it as written here, so a filter value compares exactly.
"""

from __future__ import annotations

__all__ = ["FILE_FORMATS", "SCAN", "file_format", "format_name", "format_values"]

#: Every file format an entry may have, in the order facets and forms list them.
FILE_FORMATS = ("pdf", "word", "excel", "powerpoint", "image", "email", "archive", "text", "other")
#: The one value of the ``scan`` facet (an entry that is a scan); others have none.
SCAN = "scan"

_BY_MIME = {
    "application/pdf": "pdf",
    "application/msword": "word",
    "application/rtf": "word",
    "text/rtf": "word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word",
    "application/vnd.oasis.opendocument.text": "word",
    "application/vnd.ms-works": "word",
    "application/wps-office.docx": "word",
    "application/vnd.ms-excel": "excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "excel",
    "application/vnd.oasis.opendocument.spreadsheet": "excel",
    "text/csv": "excel",
    "application/vnd.ms-powerpoint": "powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "powerpoint",
    "application/vnd.oasis.opendocument.presentation": "powerpoint",
    "message/rfc822": "email",
    "application/vnd.ms-outlook": "email",
    "application/zip": "archive",
    "application/x-zip-compressed": "archive",
    "application/x-7z-compressed": "archive",
    "application/x-rar-compressed": "archive",
    "application/vnd.rar": "archive",
    "application/x-tar": "archive",
    "application/gzip": "archive",
    "application/x-gzip": "archive",
}
_BY_EXTENSION = {
    "pdf": "pdf",
    **dict.fromkeys(("doc", "docx", "rtf", "odt", "wps", "dot", "dotx"), "word"),
    **dict.fromkeys(("xls", "xlsx", "csv", "ods", "et", "xlsm"), "excel"),
    **dict.fromkeys(("ppt", "pptx", "odp", "dps", "pps", "ppsx"), "powerpoint"),
    **dict.fromkeys(
        ("png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "heic", "heif", "avif"), "image"
    ),
    **dict.fromkeys(("eml", "msg"), "email"),
    **dict.fromkeys(("zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "xz"), "archive"),
    **dict.fromkeys(("txt", "md", "markdown", "html", "htm", "xml", "json", "log"), "text"),
}


def file_format(mime: str | None, filename: str | None = None) -> str:
    """The file format (one of :data:`FILE_FORMATS`) of a file with this MIME type and name."""
    kind = (mime or "").split(";", 1)[0].strip().lower()
    found = _BY_MIME.get(kind)
    if found is not None:
        return found
    if kind.startswith("image/"):
        return "image"
    name = (filename or "").strip().lower()
    ext = name.rsplit(".", 1)[1] if "." in name else ""
    found = _BY_EXTENSION.get(ext)
    if found is not None:
        return found
    if kind.startswith("text/"):
        return "text"
    return "other"


#: What people type for a format besides its name (``format:图片``, ``format:ppt``); extensions count too.
_ALIASES = {
    "word文档": "word",
    "文档": "word",
    "表格": "excel",
    "电子表格": "excel",
    "幻灯片": "powerpoint",
    "演示文稿": "powerpoint",
    "图片": "image",
    "图像": "image",
    "img": "image",
    "邮件": "email",
    "电子邮件": "email",
    "mail": "email",
    "e-mail": "email",
    "压缩包": "archive",
    "压缩文件": "archive",
    "文本": "text",
    "纯文本": "text",
    "其他": "other",
    "其它": "other",
}


def format_name(value: str) -> str | None:
    """The format a typed value names (``PDF``, ``docx``, ``图片`` …), or None when it names none."""
    key = value.strip().lower().lstrip(".")
    if key in FILE_FORMATS:
        return key
    return _ALIASES.get(key) or _BY_EXTENSION.get(key)


def format_values(values: tuple[str, ...] | list[str]) -> list[str]:
    """Format filter values in stored form; a value that names no format is kept as written (it matches nothing)."""
    return list(dict.fromkeys(format_name(v) or v.strip().lower() for v in values if v and v.strip()))

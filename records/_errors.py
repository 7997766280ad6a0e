"""Errors of the system of record."""

from __future__ import annotations

from foundation.errors import DossierError


class RecordsError(DossierError):
    """Something is wrong with the stored records or blobs."""


class BlobMissing(RecordsError):
    """A stored original is gone from the blob store."""

    def __init__(self, sha256: str) -> None:
        super().__init__(
            f"原始文件丢失（{sha256[:12]}…），请从备份恢复 / original file missing from the blob store"
        )
        self.sha256 = sha256


class BlobCorrupt(RecordsError):
    """A stored original no longer matches its checksum (HTTP 500: it is never served)."""

    status = 500

    def __init__(self, sha256: str) -> None:
        super().__init__(
            f"原始文件校验失败（{sha256[:12]}…），请从备份恢复 / stored original fails its checksum"
        )
        self.sha256 = sha256


#: Why a sealed blob cannot be opened: (中文, English) of the cause and of what to do.
_UNREADABLE = {
    "no_key": (
        "已加密，但没有配置密钥：请设置 DOSSIER_BLOB_KEY 或 DOSSIER_BLOB_KEY_FILE",
        "is encrypted but no key is set: set DOSSIER_BLOB_KEY or DOSSIER_BLOB_KEY_FILE",
    ),
    "unknown_key": (
        "用密钥 {key_id} 加密，但该密钥未配置：请把它加入 DOSSIER_BLOB_KEY_OLD 或密钥文件",
        "is encrypted with key {key_id}, which is not configured: add it to DOSSIER_BLOB_KEY_OLD or the key file",
    ),
    "auth": (
        "解密校验失败（文件被改动、截断或与别的文件调换），不予提供：{remedy_zh}",
        "fails authentication (altered, truncated or swapped file) and is not served: {remedy_en}",
    ),
    "format": (
        "的加密格式无法识别（文件头损坏，或由更新的版本写入）：{remedy_zh}",
        "has an unknown encryption format (damaged header, or written by a newer version): {remedy_en}",
    ),
}


class BlobUnreadable(BlobCorrupt):
    """A sealed (encrypted) blob cannot be opened: no key, a key not configured, or it fails
    authentication (altered, truncated or swapped bytes).  ``reason`` is one of ``no_key``,
    ``unknown_key``, ``auth``, ``format``; ``cached`` marks a derived file (page image)."""

    def __init__(self, blob: str, reason: str, key_id: str = "", *, cached: bool = False) -> None:
        zh, en = _UNREADABLE[reason]
        if cached:
            what_zh, what_en = f"缓存文件（{blob}）", f"cached file {blob}"
            remedy_zh, remedy_en = "删除后会重新生成", "delete it and it is made again"
        else:
            what_zh, what_en = f"原始文件（{blob[:12]}…）", f"stored original {blob[:12]}…"
            remedy_zh, remedy_en = "请从备份恢复该文件", "restore it from a backup"
        fill = {"key_id": key_id, "remedy_zh": remedy_zh, "remedy_en": remedy_en}
        RecordsError.__init__(self, f"{what_zh}{zh.format(**fill)} / the {what_en} {en.format(**fill)}")
        self.sha256 = blob
        self.reason = reason
        self.key_id = key_id
        self.cached = cached


class NotInitialised(RecordsError):
    """The data home has no (current) database schema."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"数据目录尚未初始化（{where}），请先运行 `dossier init` / not initialised: run `dossier init` first"
        )


class DatabaseUnavailable(RecordsError):
    """The records database cannot be reached (server down, wrong address or password, unreadable file)."""

    status = 503

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"无法连接记录数据库 {url}：{reason}（请检查 DOSSIER_DATABASE_URL）"
            f" / cannot reach the records database {url}: {reason} (check DOSSIER_DATABASE_URL)"
        )
        self.url = url
        self.reason = reason

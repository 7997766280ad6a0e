"""Errors of the system of record."""

from __future__ import annotations

from dossier.errors import DossierError


class RecordsError(DossierError):
    """Something is wrong with the stored records or blobs."""


class BlobMissing(RecordsError):
    """A stored original is gone from the blob store."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"原始文件丢失（{sha256[:12]}…），请从备份恢复 / original file missing from the blob store")
        self.sha256 = sha256


class BlobCorrupt(RecordsError):
    """A stored original no longer matches its checksum."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"原始文件校验失败（{sha256[:12]}…），请从备份恢复 / stored original fails its checksum")
        self.sha256 = sha256


class NotInitialised(RecordsError):
    """The data home has no (current) database schema."""

    def __init__(self, where: str) -> None:
        super().__init__(f"数据目录尚未初始化（{where}），请先运行 `dossier init` / not initialised: run `dossier init` first")


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

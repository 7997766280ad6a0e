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

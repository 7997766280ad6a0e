"""Limits that guard every extractor against hostile or runaway input."""

from __future__ import annotations

from dataclasses import dataclass

from foundation.config import Settings

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-file limits; defaults match the settings table."""

    max_file_bytes: int = 200 * MB
    max_pages: int = 2000
    max_pixels: int = 200_000_000
    parse_timeout_s: float = 120.0
    zip_max_members: int = 1000
    zip_max_total_bytes: int = 500 * MB
    zip_max_ratio: float = 100.0
    max_depth: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """Build limits from ``DOSSIER_*`` settings."""
        return cls(
            max_file_bytes=settings.get_int("DOSSIER_MAX_FILE_MB") * MB,
            max_pages=settings.get_int("DOSSIER_MAX_PAGES"),
            max_pixels=settings.get_int("DOSSIER_MAX_PIXELS"),
            parse_timeout_s=float(settings.get_int("DOSSIER_PARSE_TIMEOUT")),
            zip_max_members=settings.get_int("DOSSIER_ZIP_MAX_MEMBERS"),
            zip_max_total_bytes=settings.get_int("DOSSIER_ZIP_MAX_TOTAL_MB") * MB,
            zip_max_ratio=float(settings.get_int("DOSSIER_ZIP_MAX_RATIO")),
            max_depth=settings.get_int("DOSSIER_ZIP_MAX_DEPTH"),
        )

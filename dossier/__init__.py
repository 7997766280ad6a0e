"""Dossier: search-centric intake and indexing of a sales team's customer files."""

from __future__ import annotations

from foundation.errors import DossierError

__all__ = ["DossierError", "__version__"]
__version__ = "0.1.0"

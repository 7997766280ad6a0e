"""A small real data home (two corpus files), its web app and an API token, for the manual's examples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from tests.conftest import DEV

ADMIN_PASSWORD = "docs-test-Passw0rd!"
FILES = (
    "contracts/产品购销合同_Pacific Rim_HT-2024-0315.pdf",
    "quotes/报价单_海川物流_20240530.docx",
)


@pytest.fixture(scope="module")
def docs_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An initialised home holding two corpus documents, a sales rep and a viewer; its settings."""
    if not DEV.is_dir():
        pytest.skip(f"test corpus not found at {DEV}")
    home = tmp_path_factory.mktemp("docs-home")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(home),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_LANGUAGE": "zh",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=ADMIN_PASSWORD)
    d = Dossier.open(settings)
    d.ingest_paths([str(DEV / f) for f in FILES], customer="海川物流", ocr=False)
    yield {"settings": settings, "home": home, "dossier": d}
    d.close()


@pytest.fixture(scope="module")
def docs_app(docs_home: dict[str, Any]) -> Any:
    from webui import create_app

    return create_app(docs_home["settings"], test_config={"TESTING": True})

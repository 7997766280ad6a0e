"""`dossier check [--repair] [--json]` through click's runner, on a real data home: output, exit status, repairs."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.cli import cli
from records import BlobStore
from tests.conftest import DEV

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
FILES = [
    DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt",
    DEV / "contracts" / "产品购销合同_昌隆精密_HT-2023-1213.md",
]


def _run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner(env=NO_REDIS).invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home made and filled through the CLI once; each test gets a copy."""
    home = tmp_path_factory.mktemp("cli-check") / "home"
    assert _run(home, "init").exit_code == 0
    ingest = _run(home, "ingest", *map(str, FILES), "--wait", "--json")
    assert ingest.exit_code == 0 and json.loads(ingest.output)["ingested"] == 2, ingest.output
    return home


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "home")
    return tmp_path / "home"


def _store(home: Path) -> BlobStore:
    return BlobStore(home / "blobs")


def test_a_clean_home_exits_0_with_a_summary(home):
    """Nothing wrong: exit 0, the summary counts what was checked, --json says ok."""
    result = _run(home, "check")
    assert result.exit_code == 0, result.output
    assert "checked 2 originals, 2 versions and 2 index entries" in result.output
    assert "完整性检查通过" in result.output and "nothing is wrong" in result.output
    report = json.loads(_run(home, "check", "--json").output)
    assert report["ok"] is True and report["findings"] == [] and report["checked"]["blobs"] == 2


def test_repairable_problems_exit_1_until_repaired(home):
    """GIVEN an orphan original and a lost index entry, THEN `check` exits 1 naming both and suggesting --repair;
    `check --repair` repairs both (exit 0) and the next `check` is clean."""
    store = _store(home)
    assert store.root.is_dir()
    digest = store.put(b"left behind by an intake that never committed")
    old = time.time() - 7200
    os.utime(store.path(digest), (old, old))
    with_entry = json.loads(_run(home, "search", "金桥电气", "--json").output)["hits"][0]["id"]
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{home / 'dossier.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM search_doc WHERE id = ?", (with_entry,))
    engine.dispose()
    found = _run(home, "check")
    assert found.exit_code == 1, found.output
    assert "belongs to no version" in found.output and digest[:12] in found.output
    assert f"the search index lacks document {with_entry}" in found.output
    assert "dossier check --repair" in found.output
    repaired = _run(home, "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert repaired.output.count("✓") == 2 and "2 repaired, 0 left" in repaired.output
    assert not store.path(digest).exists()
    assert _run(home, "check").exit_code == 0


def test_a_lost_original_cannot_be_repaired_and_exits_1(home):
    """A removed original: --repair cannot bring it back, says so and exits 1; --json lists it as not repairable."""
    store = _store(home)
    (digest, path), *_ = list(store.originals())
    path.unlink()
    result = _run(home, "check", "--repair")
    assert result.exit_code == 1, result.output
    assert (
        "cannot be repaired automatically" in result.output
        and "restore the file from a backup" in result.output
    )
    report = json.loads(_run(home, "check", "--json").output)
    assert report["ok"] is False and report["counts"] == {"original_missing": 1}
    (finding,) = report["findings"]
    assert finding["repairable"] is False and digest[:12] in finding["message"]

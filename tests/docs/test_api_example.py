"""The integration example of docs/reference/api.md runs: its Python and its curl blocks, as printed, against
a real server (the app on a small home, served over HTTP in a thread) with a real API token."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._api import token_for
from tests.docs._manual import DOCS, code_blocks
from tests.webui._browser import serve

API_PAGE = DOCS / "reference" / "api.md"


def _example(lang: str, marker: str) -> str:
    found = [b.text for b in code_blocks(API_PAGE) if b.lang == lang and marker in b.text]
    assert len(found) == 1, f"{API_PAGE.name} has one {lang} block with {marker!r}"
    return found[0]


@pytest.fixture(scope="module")
def server(docs_app: Any, docs_home: dict[str, Any]) -> Iterator[dict[str, str]]:
    token = token_for(docs_home["home"], "example-rep", role="sales")
    with serve(docs_app) as url:
        yield {"DOSSIER_URL": url, "DOSSIER_TOKEN": token}


@pytest.fixture()
def upload_file(tmp_path: Path) -> Path:
    path = tmp_path / "报价单.txt"
    path.write_text(f"报价单 示例 集成 {tmp_path.name}\n数量 10 单价 1200 元\n", encoding="utf-8")
    return path


def test_the_python_example_searches_exports_and_uploads(server, upload_file, tmp_path):
    script = tmp_path / "dossier_example.py"
    script.write_text(_example("python", "dossier-example"), encoding="utf-8")
    env = {**os.environ, **server, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    run = subprocess.run(
        [sys.executable, str(script), str(upload_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].endswith("ms") and "hits" in lines[0]
    assert any(line.startswith("exported ") for line in lines)
    assert any(line.startswith("报价单.txt queued ") for line in lines), run.stdout
    assert any(line.startswith("batch ") for line in lines)
    csv = (tmp_path / "contracts.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines(), "the export wrote the CSV with its header"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_curl_example_searches_exports_and_uploads(server, upload_file, tmp_path):
    block = _example("sh", "curl")
    # the block sets the two variables for the reader; the test's server and token stand in for them
    commands = "\n".join(
        line for line in block.splitlines() if not line.startswith(("DOSSIER_URL=", "DOSSIER_TOKEN="))
    )
    assert upload_file == tmp_path / "报价单.txt"  # the name the block uploads, in its working folder
    env = {**os.environ, **server, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"hits"' in run.stdout and '"batch_id"' in run.stdout and '"batches"' in run.stdout
    assert (tmp_path / "contracts.csv").stat().st_size > 0

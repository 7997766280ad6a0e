"""MkDocs hook: the screenshots the pages show come from the browser tests, never from the repository.

A page shows one with ``![…](../screenshots/admin-search-zh-1024.png)``.  At build time every
``screenshots/<name>.png`` the pages name is taken from the browser tests' artifacts folder
(``$DOSSIER_TEST_ARTIFACTS``, else ``test-artifacts/screenshots`` at the repository root — where
``tests/webui/_browser.py`` saves them) and added to the site as it is now; a missing one stops the build
with what to run (``make screenshots``).  So a screenshot in the manual is as current as the last browser
test run, and never a stale copy kept in git.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
#: How a page names a screenshot (relative to itself): ``screenshots/<name>.png``.
REFERENCE = re.compile(r"screenshots/([A-Za-z0-9_.-]+\.png)")


def artifacts_dir() -> Path:
    """Where the browser tests save screenshots (the same rule as tests/webui/_browser.py)."""
    root = os.environ.get("DOSSIER_TEST_ARTIFACTS")
    return Path(root) if root else ROOT / "test-artifacts" / "screenshots"


def referenced(docs_dir: Path) -> set[str]:
    """Every screenshot file name the Markdown pages under ``docs_dir`` name."""
    names: set[str] = set()
    for page in docs_dir.rglob("*.md"):
        names.update(REFERENCE.findall(page.read_text(encoding="utf-8")))
    return names


def on_files(files: Files, config: Any) -> Files:
    folder = artifacts_dir()
    wanted = sorted(referenced(Path(config["docs_dir"])))
    missing = [name for name in wanted if not (folder / name).is_file()]
    if missing:
        raise PluginError(
            f"screenshots missing in {folder}: {', '.join(missing)} — "
            "run `make screenshots` (the browser tests save them) and build again"
        )
    for name in wanted:
        files.append(File.generated(config, f"screenshots/{name}", abs_src_path=str(folder / name)))
    return files

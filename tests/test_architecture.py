"""The architecture holds: layers point one way, no import cycles, facades between packages, README says so.

The layer order is the import contract in ``pyproject.toml`` (``lint-imports`` checks it in
``make lint`` too); here it runs as a test with the cycle and private-name checks import-linter
does not make.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

PACKAGES = ("foundation", "ingest", "index", "records", "pipeline", "dossier", "workers", "webui")


def _contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    assert sorted(config["root_packages"]) == sorted(PACKAGES)
    return list(layers)


def test_the_layer_contract_is_kept():
    """`lint-imports` finds no import from a lower layer into a higher one (foundation … CLI)."""
    run = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "KEPT" in run.stdout and "BROKEN" not in run.stdout


def _cycles() -> list[list[str]]:
    """Strongly connected groups of two or more modules in the import graph (function-level imports count)."""
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan, iterative enough for our depth
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others():
    """No import cycle between modules, not even through an import inside a function."""
    assert _cycles() == []


def _owner(module: str) -> str:
    """The package a module belongs to for the facade rule (``dossier.app`` and ``dossier.cli`` are two)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "dossier" and len(parts) > 1 else parts[0]


def _private_imports() -> list[str]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    targets = [f"{node.module}.{alias.name}" for alias in node.names]
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                else:
                    continue
                for target in targets:
                    if target.split(".")[0] not in PACKAGES or _owner(target) == _owner(module):
                        continue
                    if any(
                        part.startswith("_") and not part.startswith("__") for part in target.split(".")[1:]
                    ):
                        out.append(f"{module} imports {target}")
    return out


def test_no_package_reaches_into_another_ones_private_modules():
    """Packages talk through their facades and public modules: no ``_private`` name crosses a package."""
    assert _private_imports() == []


def test_the_readme_layout_names_the_layers_in_the_contracts_order():
    """The manual's Layout section (docs/design/development.md) lists exactly the contract's layers, highest first."""
    readme = (ROOT / "docs" / "design" / "development.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1].split("\n", 1)[1]  # the fence's info string (```text) is no layer
    named = [m.group(1) for m in re.finditer(r"^([a-z][a-z.]*(?: \| [a-z.]+)*)\s", block, re.M)]
    assert named == _contract_layers()


@pytest.mark.parametrize(
    "name", ["ingest_document", "ocr_document_pages", "reindex_documents", "export_results"]
)
def test_the_queued_job_paths_still_resolve(name):
    """Jobs queued by an older version name their function by path: every one the queue writes still imports."""
    import importlib

    source = (ROOT / "pipeline" / "queue.py").read_text(encoding="utf-8")
    assert f'"workers.jobs.{name}"' in source
    assert callable(getattr(importlib.import_module("workers.jobs"), name))


def test_the_application_object_holds_its_services_rather_than_mixing_them_in(dossier):
    """`Dossier` inherits from nothing: accounts, audit, documents, customers, exports, intake, reading and the
    lifecycle's (backups, trash, archive, retention, integrity) are services it holds, and the entry points it offers of the last two are theirs (no second implementation)."""
    from dossier.app._accounts import AccountService
    from dossier.app._archive import ArchiveService
    from dossier.app._check import IntegrityService
    from dossier.app._customers import CustomerService
    from dossier.app._documents import DocumentService
    from dossier.app._intake import IntakeService
    from dossier.app._reading import ReadingService
    from dossier.app._retention import RetentionService
    from dossier.app._trash import TrashService
    from dossier.app.audit import AuditService
    from dossier.app.backup import BackupService
    from dossier.app.export import ExportService
    from dossier.app.services import Dossier

    assert Dossier.__bases__ == (object,)
    held = {
        "accounts": AccountService,
        "audit": AuditService,
        "documents": DocumentService,
        "customers": CustomerService,
        "exports": ExportService,
        "intake": IntakeService,
        "reading": ReadingService,
        "backups": BackupService,
        "trash": TrashService,
        "archive": ArchiveService,
        "retention": RetentionService,
        "integrity": IntegrityService,
    }
    assert {name: type(getattr(dossier, name)) for name in held} == held
    for name in ("ingest_paths", "ingest_upload", "batch_status", "retry", "ocr", "reindex"):
        assert getattr(dossier, name).__self__ is dossier.intake, name
    for name in ("search", "show", "open_original"):
        assert getattr(dossier, name).__self__ is dossier.reading, name
    public = [n for n, v in vars(Dossier).items() if callable(v) and not n.startswith("_")]
    assert len(public) <= 12, public  # open, init, status and the home's lifecycle; the rest is in services


def _code_packages() -> list[str]:
    """The test folder each code package gets: its own name, and ``app`` and ``cli`` for ``dossier``'s two."""
    names = []
    for package in PACKAGES:
        if package == "dossier":
            names += sorted(p.parent.name for p in (ROOT / "dossier").glob("*/__init__.py"))
        else:
            names.append(package)
    return names


def test_the_test_folders_mirror_the_code_packages():
    """tests/ is laid out like the code: every code package (foundation, ingest, index, records, pipeline,
    ``app`` for dossier.app, ``cli`` for dossier.cli, workers, webui) has a tests/<name>/ package holding
    test modules; end-to-end and cross-cutting tests live in tests/e2e/, the manual's own in tests/docs/; tests/ holds no other folder with
    Python in it, and no test module at its root but this one (the helpers ``_*.py`` and conftest.py stay)."""
    tests = ROOT / "tests"
    expected = [*_code_packages(), "e2e", "docs"]
    assert _code_packages() == [
        "foundation",
        "ingest",
        "index",
        "records",
        "pipeline",
        "app",
        "cli",
        "workers",
        "webui",
    ]
    for name in expected:
        folder = tests / name
        assert (folder / "__init__.py").is_file(), f"tests/{name}/__init__.py is missing"
        assert list(folder.glob("test_*.py")), f"tests/{name}/ holds no test module"
    folders = {
        p.name
        for p in tests.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and any(p.rglob("*.py"))
    }
    assert folders == set(expected), (
        f"folders of tests/ that mirror no package: {sorted(folders - set(expected))}"
    )
    assert sorted(p.name for p in tests.glob("test_*.py")) == ["test_architecture.py"]

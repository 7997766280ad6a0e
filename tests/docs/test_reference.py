"""Docs that cannot rot: every command and option, every setting and every API route is in the manual,
and everything the manual names (a ``dossier`` command or option, a ``DOSSIER_*`` setting, an /api route)
exists.  The reference pages are docs/reference/commands.md, settings.md and api.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from dossier.cli import cli
from foundation.config import SETTINGS
from tests.docs._manual import DOCS, all_blocks, manual_text, pages, shell_commands

COMMANDS_PAGE = DOCS / "reference" / "commands.md"
SETTINGS_PAGE = DOCS / "reference" / "settings.md"
API_PAGE = DOCS / "reference" / "api.md"
#: Environment variables the manual names that are not settings of the product: the tests' and the examples'.
NOT_SETTINGS = {
    "DOSSIER_CORPUS",  # the test corpus (tests/conftest.py)
    "DOSSIER_TEST_ARTIFACTS",  # where browser tests save screenshots
    "DOSSIER_TEST_POSTGRES_URL",  # the records tests' PostgreSQL
    "DOSSIER_TEST_TANTIVY",  # 0: the backend-parametrised suites leave the Tantivy index out
    "DOSSIER_SCREENSHOTS",  # the viewer's browser test's screenshots
    "DOSSIER_URL",  # the API examples' server
    "DOSSIER_TOKEN",  # the API examples' token
}


def walk(
    command: click.Command = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the ``dossier`` tree with its path (the root's is ``()``), groups included."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            if not sub.hidden:
                yield from walk(sub, (*path, name))


def long_options(command: click.Command) -> list[str]:
    return [
        o
        for p in command.params
        if isinstance(p, click.Option)
        for o in (*p.opts, *p.secondary_opts)
        if o.startswith("--")
    ]


def _rows() -> list[str]:
    return [
        line
        for line in COMMANDS_PAGE.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `dossier")
    ]


def _row_names(row: str, path: tuple[str, ...]) -> bool:
    """Whether a row of the commands table documents the command ``path``: ``dossier <first>`` (or
    ``dossier a\\|b``) and then each further word of the path."""
    firsts = {
        w for m in re.finditer(r"dossier ((?:[\w-]+\\\|)*[\w-]+)", row) for w in m.group(1).split("\\|")
    }
    return path[0] in firsts and all(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", row) for w in path[1:])


LEAVES = [(p, c) for p, c in walk() if p and not isinstance(c, click.Group)]


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_and_its_options_are_in_the_commands_reference(path, command):
    rows = [row for row in _rows() if _row_names(row, path)]
    assert rows, f"`dossier {' '.join(path)}` has no row in {COMMANDS_PAGE.name}"
    text = "\n".join(rows)
    missing = [o for o in long_options(command) if not re.search(rf"{re.escape(o)}(?![\w-])", text)]
    assert missing == [], f"`dossier {' '.join(path)}`: options missing from its row(s)"


def test_the_global_options_are_documented():
    text = COMMANDS_PAGE.read_text(encoding="utf-8")
    assert all(o in text for o in long_options(cli))


# -- what the manual names exists --------------------------------------------------------------------------


def _dossier_invocations() -> Iterator[tuple[Path, str]]:
    """Every ``dossier …`` the manual shows: in inline code and in shell blocks (usage lines included)."""
    for page in pages():
        text = page.read_text(encoding="utf-8")
        without_blocks = re.sub(r"```.*?```", "", text, flags=re.S)
        for span in re.findall(r"`([^`\n]+)`", without_blocks):
            m = re.match(r"(?:\w+=\S+ )*(?:\.venv/bin/)?dossier (.*)$", span)
            if m:
                yield page, m.group(1)
    for block in all_blocks():
        if block.lang in ("sh", "bash", "shell"):
            for command in shell_commands(block.text):
                m = re.search(r"(?:^|[\s|])(?:\S*/)?dossier (.*)$", command)
                if m:
                    yield block.page, m.group(1)


def resolve(words: list[str]) -> tuple[tuple[str, ...], click.Command, list[str]]:
    """The command a list of words names (as far as they go) and the words after it."""
    command: click.Command = cli
    path: list[str] = []
    rest = list(words)
    while rest and isinstance(command, click.Group):
        word = rest[0]
        if word.startswith("-"):
            rest.pop(0)  # --home DIR before the command
            if word == "--home" and rest:
                rest.pop(0)
            continue
        if word not in command.commands:
            break
        command = command.commands[word]
        path.append(rest.pop(0))
    return tuple(path), command, rest


def test_every_command_and_option_the_manual_names_exists():
    problems = set()
    for page, invocation in _dossier_invocations():
        words = [w for w in re.split(r"[\s\[\]()|\\…]+", invocation) if w]
        path, command, rest = resolve(words)
        where = page.relative_to(DOCS.parent)
        if (
            isinstance(command, click.Group)
            and rest
            and not rest[0].startswith("-")
            and re.fullmatch(r"[a-z][a-z-]+", rest[0])
        ):
            problems.add(f"{where}: `dossier {' '.join([*path, rest[0]])}` is no command")
            continue
        known = set(long_options(command)) | set(long_options(cli)) | {"--help"}
        for word in rest:
            option = word.split("=", 1)[0].rstrip(".,;:")
            if re.fullmatch(r"--[a-z][\w-]*", option) and option not in known:
                problems.add(f"{where}: `dossier {' '.join(path)}` has no option {option}")
    assert sorted(problems) == []


def test_the_manual_names_no_command_that_is_gone():
    """``dossier ocr`` went away (the workers OCR by themselves); the manual must not offer it."""
    assert not re.search(r"dossier ocr\b", manual_text())


# -- settings ---------------------------------------------------------------------------------------------


def test_every_setting_has_a_row_in_the_settings_reference():
    rows = SETTINGS_PAGE.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if not re.search(rf"^\| `{s.name}` \|", rows, re.M)]
    assert missing == []


def test_every_setting_row_gives_its_real_default():
    """A default changed in foundation/config.py must change in the manual too."""
    cells = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r"^\| `(DOSSIER_\w+)` \| ([^|]*) \|", SETTINGS_PAGE.read_text(encoding="utf-8"), re.M
        )
    }
    wrong = [
        f"{s.name}: `{s.default}` (manual: {cells.get(s.name)})"
        for s in SETTINGS
        if s.default and f"`{s.default}`" not in cells.get(s.name, "")
    ]
    assert wrong == []


def test_every_setting_the_manual_names_exists():
    named = set(re.findall(r"\bDOSSIER_[A-Z0-9_]+", manual_text()))
    assert sorted(named - {s.name for s in SETTINGS} - NOT_SETTINGS) == []


# -- the API ----------------------------------------------------------------------------------------------


def _documented_routes() -> set[str]:
    text = API_PAGE.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `((?:GET|POST|PUT|PATCH|DELETE) /api[^`]*)` \|", text, re.M))


def test_every_api_route_is_in_the_api_reference_and_no_other(tmp_path):
    from foundation.config import load_settings
    from webui import create_app, openapi

    settings = load_settings(environ={"DOSSIER_HOME": str(tmp_path)}, dotenv=Path("/nonexistent"))
    routes = {
        f"{method.upper()} {path}"
        for path, methods in openapi.api_routes(create_app(settings, test_config={"TESTING": True})).items()
        for method in methods
    }
    documented = _documented_routes()
    assert sorted(routes - documented) == [], f"routes missing from {API_PAGE.name}"
    assert sorted(documented - routes) == [], f"rows of {API_PAGE.name} for routes that do not exist"

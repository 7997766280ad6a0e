"""The manual's code blocks run, or say they are output.

Every fenced block names its language, and the language says what the test does with it:

- ``sh``/``bash``/``shell`` — commands.  Each ``dossier`` command in them must exist with the options it
  uses (tests/docs/test_reference.py), and the safe ones — ``--help``, and the read-only commands of
  :data:`RUN` — are run, in a fresh data home, and must succeed.  Commands of other programs (make, curl,
  docker) are not run here; the API examples' curl block is run by test_api_example.py;
- ``python`` — must compile; the integration example (``# dossier-example``) is run by test_api_example.py;
- ``json`` and ``yaml`` — must parse;
- ``text`` and ``console`` — output, layouts and synopses: shown, not run.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dossier.cli import cli
from tests.docs._manual import Block, all_blocks, shell_commands
from tests.docs.test_reference import resolve

SHELL = ("sh", "bash", "shell")
OUTPUT = ("text", "console")
LANGS = (*SHELL, *OUTPUT, "python", "json", "yaml")
#: Read-only commands a block may show that are run as shown (in an empty home).
RUN = {
    ("settings",),
    ("status",),
    ("search",),
    ("users", "list"),
    ("customers", "list"),
    ("keys", "status"),
    ("check",),
}

BLOCKS = all_blocks()


def test_every_block_says_what_it_is():
    unnamed = [f"{b.where}: ``` with {b.lang or 'no language'}" for b in BLOCKS if b.lang not in LANGS]
    assert unnamed == [], f"name each block's language, one of {', '.join(LANGS)}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "python"], ids=lambda b: b.where)
def test_python_blocks_compile(block: Block):
    compile(block.text, block.where, "exec")


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang in ("json", "yaml")], ids=lambda b: b.where)
def test_data_blocks_parse(block: Block):
    if block.lang == "json":
        json.loads(block.text)
    else:
        yaml.safe_load(block.text)


def _runnable() -> list[tuple[str, list[str]]]:
    """(where, arguments) of every safe ``dossier`` command of the shell blocks."""
    found = []
    for block in BLOCKS:
        if block.lang not in SHELL:
            continue
        for command in shell_commands(block.text):
            if any(c in command for c in "|<>$`"):
                continue  # pipes, redirections and variables: not run as they stand
            words = shlex.split(command)
            while words and "=" in words[0]:
                words.pop(0)
            if not words or not words[0].endswith("dossier"):
                continue
            args = words[1:]
            path, _command, _rest = resolve(args)
            if "--help" in args or path in RUN:
                found.append((block.where, args))
    return found


RUNNABLE = _runnable()


@pytest.fixture(scope="module")
def empty_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("blocks-home")
    made = CliRunner().invoke(cli, ["--home", str(home), "init"])
    assert made.exit_code == 0, made.output
    return home


def test_some_commands_are_run():
    assert len(RUNNABLE) >= 5


@pytest.mark.parametrize(("where", "args"), RUNNABLE, ids=[f"{w} {' '.join(a)}" for w, a in RUNNABLE])
def test_safe_commands_run(where, args, empty_home, monkeypatch):
    monkeypatch.setenv("DOSSIER_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("DOSSIER_OPENSEARCH_URL", raising=False)
    monkeypatch.delenv("DOSSIER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["--home", str(empty_home), *args])
    assert result.exit_code == 0, f"{where}: dossier {' '.join(args)}\n{result.output}"

"""What the docs tests read: the manual's Markdown pages (docs/ and the README) and their fenced code blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


def pages() -> list[Path]:
    """Every Markdown page of the manual, and the README that leads to it."""
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def manual_text() -> str:
    """All of the manual as one text (for "is it mentioned anywhere" checks)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in pages())


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language (the info string's first word) and its text."""

    page: Path
    line: int
    lang: str
    info: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def code_blocks(page: Path) -> Iterator[Block]:
    """The fenced code blocks of ``page`` (``` or ~~~, indented inside list items too)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        info = opening.group("info").strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if closing and closing.group("fence").startswith(fence) and not closing.group("info").strip():
                break
            line = lines[j]
            body.append(line[indent:] if not line[:indent].strip() else line.lstrip())
            j += 1
        lang = info.split()[0].lower() if info else ""
        yield Block(page, i + 1, lang, info, "\n".join(body))
        i = j + 1


def all_blocks() -> list[Block]:
    return [b for p in pages() for b in code_blocks(p)]


def shell_commands(text: str) -> Iterator[str]:
    """The commands of a shell block: continuation lines joined, comments and blank lines dropped,
    ``a ; b`` and ``a && b`` split."""
    joined = re.sub(r"\\\n\s*", " ", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        for part in re.split(r"\s*(?:;|&&|\|\|)\s*", line):
            if part.strip():
                yield part.strip()


# -- building the site --------------------------------------------------------------------------------------

#: A 1x1 PNG: stands in for the browser tests' screenshots when a test builds the site.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f0005000201a1d6cf7d0000000049454e44ae426082"
)


def screenshot_names() -> list[str]:
    """The screenshots the manual shows (docs/_hooks/screenshots.py takes them from the browser tests)."""
    return sorted(
        {
            name
            for p in DOCS.rglob("*.md")
            for name in re.findall(r"screenshots/([\w.-]+\.png)", p.read_text("utf-8"))
        }
    )


def build_site(site: Path, artifacts: Path, *, placeholders: bool = True) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` into ``site``, its screenshots taken from ``artifacts`` (filled with
    :data:`TINY_PNG` placeholders first unless told not to)."""
    artifacts.mkdir(parents=True, exist_ok=True)
    if placeholders:
        for name in screenshot_names():
            (artifacts / name).write_bytes(TINY_PNG)
    env = {**os.environ, "DOSSIER_TEST_ARTIFACTS": str(artifacts), "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

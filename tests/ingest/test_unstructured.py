"""unstructured runs fully offline: no analytics call, no spaCy model download, no socket at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ingest.conftest import first_dev

ROOT = Path(__file__).resolve().parents[2]

_GUARD = textwrap.dedent(
    """
    import socket, json, os, atexit
    ATTEMPTS = []
    def _refuse(*args, **kwargs):
        ATTEMPTS.append(repr(args[1:] if args else kwargs)[:200])
        raise OSError("network blocked by test")
    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
    @atexit.register
    def _report():
        with open(os.environ["NET_ATTEMPTS_FILE"], "w") as fh:
            json.dump(ATTEMPTS, fh)
    """
)

_CHILD = textwrap.dedent(
    """
    import sys, json, ingest
    out = {}
    for path in sys.argv[1:]:
        doc = ingest.parse_file(path)
        out[path] = [doc.format, len(doc.text)]
    import unstructured.nlp.tokenize as tk
    tk.pos_tag("The quarterly report is ready for review.")
    tk.sent_tokenize("First sentence here. Second one follows.")
    print(json.dumps(out))
    """
)


def _office_samples() -> list[str]:
    return [
        str(first_dev(p))
        for p in (
            "contracts/*.docx",
            "proposals/*.pptx",
            "orders/*.xlsx",
            "quotes/*.html",
            "meetings/*.md",
            "emails/*.eml",
        )
    ]


def test_pinned_private_loader_is_replaced() -> None:
    """The spaCy loader we replace still exists under its private name in the pinned version."""
    from importlib.metadata import version

    import unstructured.nlp.tokenize as tokenize

    from ingest.formats import _unstructured

    assert version("unstructured") == "0.27.30", (
        "re-check unstructured/nlp/tokenize.py before bumping the pin"
    )
    assert tokenize._get_nlp is _unstructured.blank_pipeline
    assert os.environ.get("SCARF_NO_ANALYTICS") and os.environ.get("DO_NOT_TRACK")
    assert [s.text for s in tokenize._get_nlp()("Hello there. Bye now.").sents] == [
        "Hello there.",
        "Bye now.",
    ]


@pytest.mark.network_blocked
def test_every_office_format_parses_with_sockets_refused(tmp_path: Path) -> None:
    """GIVEN a child interpreter whose every connect/DNS call is recorded and refused
    WHEN it extracts DOCX, PPTX, XLSX, HTML, Markdown and EML files and runs the tokenizer
    THEN all succeed and zero network attempts were made."""
    (tmp_path / "sitecustomize.py").write_text(_GUARD)
    attempts = tmp_path / "attempts.json"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "NET_ATTEMPTS_FILE": str(attempts)}
    for var in ("SCARF_NO_ANALYTICS", "DO_NOT_TRACK", "UNSTRUCTURED_DISABLE_NOTICE"):
        env.pop(var, None)  # ingest itself must set them
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *_office_samples()],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(length > 0 for _, length in parsed.values())
    assert json.loads(attempts.read_text()) == []


@pytest.mark.network_blocked
def test_extraction_in_a_network_namespace_without_interfaces(tmp_path: Path) -> None:
    """With ``unshare -rn`` (no network interfaces at all) every office format still parses."""
    if not shutil.which("unshare"):
        pytest.skip("unshare not installed")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not permitted here")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", _CHILD, *_office_samples()],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]

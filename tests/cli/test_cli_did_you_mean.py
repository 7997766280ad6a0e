"""`dossier search` and "did you mean": the JSON's top-level "suggestions", and the line the text output adds."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dossier.cli import cli
from tests import _typos_home
from tests.conftest import backend_home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    with backend_home("sqlite", "typos-cli", tmp_path_factory, _typos_home.build) as built:
        yield built


def _run(home, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner(env=home["env"]).invoke(cli, ["search", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_json_keeps_its_shape_and_adds_suggestions(home):
    """--json: total, took_ms, hits, facets as before, plus "suggestions" (the corrected queries)."""
    body = json.loads(_run(home, "Pacfic", "Rim", "--json"))
    assert {"total", "took_ms", "hits", "facets", "suggestions"} <= set(body)
    assert body["total"] == 0 and body["hits"] == []
    first = body["suggestions"][0]
    assert first["query"] == "Pacific Rim" and first["total"] == 1
    assert first["corrections"] == [
        {
            "typed": "Pacfic Rim",
            "suggested": "Pacific Rim",
            "kind": "customer",
            "customer_id": home["customers"]["P"],
        }
    ]
    assert json.loads(_run(home, "冷链运输", "--json"))["suggestions"] == []


def test_text_output_says_did_you_mean(home):
    """Without --json a line after the count names the corrected queries."""
    out = _run(home, "光华物留")
    assert "共 0 条结果" in out and "您是不是要找：光华物流" in out
    assert "您是不是要找" not in _run(home, "光华物流")

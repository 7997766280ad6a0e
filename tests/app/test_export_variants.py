"""Export snippets find a query's words in either script, as the search does."""

from __future__ import annotations

from dossier.app.export._snippets import PlainSnippets


def test_export_snippets_match_traditional_and_simplified():
    """The query 报价单 cuts the snippet around 報價單 in a traditional text, and 臺灣 around 台湾."""
    filler = "前言。" * 60
    snippet = PlainSnippets("报价单")(filler + "這是我們的報價單，請查收。")
    assert "報價單" in snippet and not snippet.startswith("前言")
    snippet = PlainSnippets("臺灣")(filler + "寄往台湾的货物")
    assert "台湾" in snippet and not snippet.startswith("前言")
    assert PlainSnippets("乾隆")(filler + "干隆").startswith("前言")  # 乾 is not folded

"""Offline use of ``unstructured`` (pinned to 0.27.30 in requirements.txt).

Importing this module, before anything imports ``unstructured``:

* sets ``SCARF_NO_ANALYTICS``/``DO_NOT_TRACK``/``UNSTRUCTURED_DISABLE_NOTICE`` so no analytics
  call or notice happens;
* replaces the private loader ``unstructured.nlp.tokenize._get_nlp`` — which downloads the
  ``en_core_web_sm`` wheel from GitHub on first use — with a blank spaCy English pipeline plus
  a rule-based sentencizer.  That is all unstructured needs (sentence boundaries; POS only
  feeds English Title/NarrativeText guesses, which we never rely on).

``tests/ingest/test_unstructured.py`` pins the private name and proves no connection is made.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

for _var, _value in (
    ("SCARF_NO_ANALYTICS", "true"),
    ("DO_NOT_TRACK", "true"),
    ("UNSTRUCTURED_DISABLE_NOTICE", "1"),
):
    os.environ.setdefault(_var, _value)


@lru_cache(maxsize=1)
def blank_pipeline() -> Any:
    """A blank English spaCy pipeline with a rule-based sentencizer: nothing to download."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def install_offline_nlp() -> None:
    """Point unstructured's spaCy loader at :func:`blank_pipeline` (idempotent)."""
    import unstructured.nlp.tokenize as tokenize

    tokenize._get_nlp = blank_pipeline
    tokenize._load_spacy_model = blank_pipeline
    tokenize._install_spacy_model = _refuse_download


def _refuse_download() -> None:
    raise RuntimeError("Dossier never downloads models at run time")


install_offline_nlp()


def table_rows(html: str) -> str:
    """Rows of an HTML table (unstructured's ``text_as_html``), cells joined by TAB."""
    import lxml.html

    root = lxml.html.fromstring(html)
    lines = []
    for tr in root.iter("tr"):
        cells = [" ".join(td.text_content().split()) for td in tr if td.tag in ("td", "th")]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append("\t".join(cells))
    return "\n".join(lines)


def element_text(element: Any) -> str:
    """An element's text; tables become TAB-joined rows, one per line."""
    html = getattr(element.metadata, "text_as_html", None)
    if type(element).__name__ == "Table" and html:
        try:
            rows = table_rows(html)
        except Exception:  # a malformed table falls back to unstructured's flat text
            rows = ""
        if rows:
            return rows
    return str(element.text or "")


def join_elements(elements: Iterable[Any]) -> str:
    """Element texts in order, one per line (page breaks dropped)."""
    return "\n".join(t for t in (element_text(e) for e in elements if type(e).__name__ != "PageBreak") if t)

"""Every main page reads in one language: no Chinese-first strings in the English UI, no English halves in
the Chinese UI (issue 17, "finish every page").

Each page is rendered in both languages over the shared test home; its visible text (and the texts of
``title``, ``aria-label`` and ``placeholder``) is searched for CJK characters in English and for Latin words
in Chinese. What the data says is allowed: document titles, file names, customer and user names, tags,
snippets, entity values — everything the records hold, gathered once from the database.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

import records

#: Chinese characters and full-width punctuation.
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]+")
#: Latin words of three letters or more (shorter ones are units, codes and abbreviations).
LATIN = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
#: Latin words a Chinese page may show: product and format names, units, protocols.
ZH_ALLOWED = {
    "dossier",
    "pdf",
    "csv",
    "xlsx",
    "jsonl",
    "json",
    "zip",
    "excel",
    "word",
    "powerpoint",
    "ocr",
    "api",
    "url",
    "utc",
    "asia",
    "shanghai",
    "smtp",
    "html",
    "email",
    "e-mail",
    "redis",
    "opensearch",
    "sqlite",
    "sha",
    "token",
    "png",
    "jpeg",
    "tiff",
    "txt",
    "docx",
    "pptx",
    "eml",
    "msg",
    "admin",
}


class _Visible(HTMLParser):
    """The text a reader sees or hears: element text outside script/style/template/pre, and labelling attributes."""

    SKIP = {"script", "style", "template", "pre", "code", "textarea"}
    ATTRS = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRS and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and value and ("type", "submit") in attrs:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return [unescape(p).strip() for p in parser.parts if p.strip()]


def _data_corpus(d) -> str:
    """Everything the records hold that a page may show as data, as one text to search in."""
    chunks: list[str] = []
    with d.sessions() as session:
        for model, columns in (
            (records.Document, ("title", "doc_date", "language")),
            (records.Version, ("filename", "uploaded_by")),
            (records.Page, ("text",)),
            (records.Customer, ("name", "owner_name", "notes")),
            (records.User, ("username",)),
            (records.Tag, ("name",)),
            (records.EntityRow, ("value", "text", "role")),
            (records.IngestJob, ("filename",)),
        ):
            for row in session.scalars(select(model)):
                for column in columns:
                    value = getattr(row, column, None)
                    if isinstance(value, str):
                        chunks.append(value)
        for customer in session.scalars(select(records.Customer)):
            chunks.extend(customer.aliases or [])
    return "\n".join(chunks)


def offenders(html: str, lang: str, data: str) -> list[str]:
    """The runs of the wrong script that are not data."""
    found: list[str] = []
    for text in visible_texts(html):
        if text in data:
            continue
        if lang == "en":
            found += [m for m in CJK.findall(text) if m not in data and m not in ("，", "、")]
        else:
            found += [
                m
                for m in LATIN.findall(text)
                if m.lower() not in ZH_ALLOWED and m not in data and m.lower() not in data
            ]
    return found


def main_pages(corpus_home) -> list[str]:
    """The pages every role uses, with real ids from the shared home."""
    d = corpus_home["dossier"]
    docs = corpus_home["summary"]["documents"]
    with d.sessions() as session:
        customer = session.scalars(select(records.Customer.id).order_by(records.Customer.id)).first()
        batch = session.scalars(select(records.IngestBatch.id).order_by(records.IngestBatch.id)).first()
        failed = session.scalars(
            select(records.Document.id).where(records.Document.status == "failed")
        ).first()
    pages = [
        "/",
        "/?q=合同",
        "/?q=contract",
        "/customers",
        "/jobs",
        "/export/jobs",
        "/admin/mail",
        "/admin/audit",
        "/trash",
        "/retention",
        "/notifications",
        "/reminders",
        "/upload",
    ]
    pages += [f"/documents/{doc['id']}" for doc in docs[:8]]
    if failed:
        pages.append(f"/documents/{failed}")
    if customer:
        pages += [f"/customers/{customer}", f"/customers/{customer}/edit", f"/customers/{customer}/timeline"]
    pages += [f"/documents/{docs[0]['id']}/edit", f"/documents/{docs[0]['id']}/versions/1"]
    if batch:
        pages.append(f"/jobs/{batch}")
    return pages


@pytest.fixture(scope="module")
def data_text(corpus_home) -> str:
    return _data_corpus(corpus_home["dossier"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_main_page_reads_in_one_language(admin, corpus_home, data_text, lang):
    """GIVEN the main pages WHEN rendered in English (Chinese) THEN no visible text outside the data is
    Chinese (English words)."""
    problems: dict[str, list[str]] = {}
    for path in main_pages(corpus_home):
        sep = "&" if "?" in path else "?"
        response = admin.get(f"{path}{sep}lang={lang}")
        if response.status_code != 200:
            problems[path] = [f"HTTP {response.status_code}"]
            continue
        found = offenders(response.get_data(as_text=True), lang, data_text)
        if found:
            problems[path] = sorted(set(found))
    import json
    import os

    if os.environ.get("SWEEP_DUMP"):
        open(os.environ["SWEEP_DUMP"] + lang, "w").write(json.dumps(problems, ensure_ascii=False, indent=0))
    assert not problems, problems

"""Every main page reads in one language: no Chinese-first strings in the English UI, no English halves in
the Chinese UI (issue 17, "finish every page").

Each page is rendered in both languages over the shared test home; its visible text (and the texts of
``title``, ``aria-label`` and ``placeholder``) is searched for CJK characters in English and for Latin words
in Chinese. What the data says is allowed: document titles, file names, customer and user names, tags,
snippets, entity values — everything the records hold, gathered once from the database.
"""

from __future__ import annotations

import json
import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

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


#: Elements whose text is not the page's own words: scripts, templates, code, preformatted detail, text areas.
SKIPPED = frozenset({"script", "style", "template", "pre", "code", "textarea"})
#: Elements that quote recorded data as it was kept: an audit event's one-line summary of its detail (keys and
#: values as recorded, the same in the CSV and the CLI).
DATA_CLASSES = frozenset({"audit-summary-text"})
#: Attributes a reader sees (tooltips) or hears (screen readers).
SEEN_ATTRS = ("title", "aria-label", "placeholder", "alt")
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
#: Technical values that are the same in every language: setting names, MIME types, digests, query syntax,
#: command lines, format names.
TECHNICAL = re.compile(
    r"DOSSIER_[A-Z_]+|\b[a-z]+/[\w.+-]+|\b[0-9a-f]{12,}\b|\b\w+:\w+|dossier(?: [a-z][a-z-]*)+|JSON Lines|SHA-256"
)


class _Visible(HTMLParser):
    """The text a reader sees or hears: element text outside script/style/template/pre, and labelling attributes.
    An element marked with its own ``lang`` (the language switch, a quotation of a document) is left out."""

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.parts: list[str] = []
        self._skip = 0
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        other = any(name == "lang" and value and not value.startswith(self.lang) for name, value in attrs)
        quoted = any(name == "class" and set((value or "").split()) & DATA_CLASSES for name, value in attrs)
        skip = tag in SKIPPED or other or quoted
        if tag not in VOID:
            self._stack.append(skip)
            self._skip += skip
        if skip or self._skip:
            return
        for name, value in attrs:
            if name in SEEN_ATTRS and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and value and ("type", "submit") in attrs:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._stack:
            self._skip -= self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data)


def visible_texts(html: str, lang: str) -> list[str]:
    """The page's visible texts, technical values cut out."""
    parser = _Visible("zh" if lang == "zh" else "en")
    parser.feed(html)
    return [TECHNICAL.sub(" ", unescape(p)).strip() for p in parser.parts if p.strip()]


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
    for text in visible_texts(html, lang):
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
    if os.environ.get("SWEEP_DUMP"):  # a file to read the findings from while fixing them
        Path(os.environ["SWEEP_DUMP"] + lang).write_text(json.dumps(problems, ensure_ascii=False, indent=0))
    assert not problems, problems


def test_an_older_bilingual_reason_shows_only_the_readers_half():
    """Reasons kept as plain "中文 / English" text (before messages were stored) render one half; others as written."""
    from foundation.messages import msg, render_stored

    old = str(msg("ingest.pdf.encrypted"))  # how such texts were written: Message.bilingual()
    assert " / " in old
    assert render_stored(old, "zh") == msg("ingest.pdf.encrypted").render("zh")
    assert render_stored(old, "en") == msg("ingest.pdf.encrypted").render("en")
    assert render_stored("合同 (contract): “合同” ×3 / contract: “合同” ×3", "en") == "contract: “合同” ×3"
    for plain in ("a/b / c", "客户 / 供应商", "扫描件 scan.pdf 已损坏", "broken / damaged file"):
        assert render_stored(plain, "en") == plain == render_stored(plain, "zh")


def test_document_page_labels_in_english(admin, corpus_home):
    """The document page in English: entity roles translated, the language value a word, no 、 list separator."""
    d = corpus_home["dossier"]
    with d.sessions() as session:
        doc_id = session.scalars(
            select(records.EntityRow.document_id).where(records.EntityRow.role == "联系电话")
        ).first()
    assert doc_id is not None
    english = admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True)
    roles = re.findall(r'<span class="muted entity-role">(.*?)</span>', english)
    assert roles and any("phone" in r for r in roles) and not any("、" in r for r in roles)
    language = re.search(r"<th>Language</th><td>(.*?)</td>", english)
    assert language and language.group(1) in ("Chinese", "English", "Mixed (Chinese and English)")
    chinese = admin.get(f"/documents/{doc_id}?lang=zh").get_data(as_text=True)
    assert re.search(r"<th>语言</th><td>(中文|英文|中英混合)</td>", chinese)

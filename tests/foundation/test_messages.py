"""The message catalogs are complete, and messages render in the reader's language everywhere they leave.

The catalogs (``foundation/locale/{zh,en}/LC_MESSAGES/dossier.po``) are checked the way
``make messages`` checks them: every id the code uses has a text in both languages with the
same placeholders, no text is left fuzzy or empty, nothing unused lingers, and English texts show
no Chinese (but the few named on purpose).
"""

from __future__ import annotations

from babel.messages.pofile import read_po, write_po

from foundation import catalogs
from foundation.errors import DossierError, NotFound
from foundation.messages import (
    Message,
    catalog,
    load_stored,
    msg,
    render_stored,
    stored,
    stored_within,
    texts,
    translate,
)


def test_the_catalogs_are_complete_and_consistent():
    """`python -m foundation.catalogs` finds nothing to report (the check CI runs through this test)."""
    assert catalogs.problems() == []


def test_extraction_finds_python_and_template_ids():
    """Babel's extraction reads message ids from Python (`msg`, `_`) and from the Jinja templates."""
    ids = catalogs.extracted_ids()
    assert "search.total" in ids  # a template: _("search.total", n=..., ms=...)
    assert "error.csrf" in ids  # Python: webui/auth.py
    assert len(ids) > 300


def test_problems_are_reported(tmp_path, monkeypatch):
    """A missing English text, a placeholder that differs and Chinese on an English page are each named."""
    zh = catalogs.read_catalog("zh")
    en = catalogs.read_catalog("en")
    en["search.total"].string = "{count} results"  # placeholders differ from 共 {n} 条结果（耗时 {ms} 毫秒）
    en["nav.search"].string = "检索"  # Chinese on an English page
    en["login.title"].string = ""  # no text
    for lang, po in (("zh", zh), ("en", en)):
        path = tmp_path / lang / "LC_MESSAGES" / "dossier.po"
        path.parent.mkdir(parents=True)
        with path.open("wb") as handle:
            write_po(handle, po)
    with (tmp_path / "zh" / "LC_MESSAGES" / "dossier.po").open("a", encoding="utf-8") as handle:
        handle.write('\nmsgid "nav.search"\nmsgstr "再一次"\n')  # what a careless merge leaves
    monkeypatch.setattr(catalogs, "catalog_path", lambda lang: tmp_path / lang / "LC_MESSAGES" / "dossier.po")
    found = "\n".join(catalogs.problems())
    assert "search.total: placeholders differ" in found
    assert "en: nav.search shows Chinese" in found
    assert "en: login.title has no text" in found
    assert "zh: nav.search is written twice" in found


def test_the_template_is_written_from_the_extracted_ids(tmp_path, monkeypatch):
    """`make messages` writes dossier.pot with exactly the extracted ids."""
    monkeypatch.setattr(catalogs, "CATALOG_DIR", tmp_path)
    path = catalogs.write_template({"b.two", "a.one"})
    with path.open("rb") as handle:
        assert [m.id for m in read_po(handle) if m.id] == ["a.one", "b.two"]


def test_a_message_renders_in_each_language_and_bilingually():
    """A Message fills its parameters per language; str() is the CLI's "中文 / English"."""
    m = msg("search.total", n=3, ms=1.5)
    assert m.render("zh") == "共 3 条结果（耗时 1.5 毫秒）"
    assert m.render("en") == "3 results (1.5 ms)"
    assert str(m) == "共 3 条结果（耗时 1.5 毫秒） / 3 results (1.5 ms)"
    assert translate("no.such.id", "en") == "no.such.id"
    assert translate("search.total", "en", n=2) == "2 results ({ms} ms)"  # a missing parameter stays visible
    assert catalog("en")["nav.search"] == "Search"


def test_an_error_carries_its_message_to_every_language():
    """An error raised with a Message renders per language; a plain string error reads the same in both."""
    err = NotFound(msg("error.404"))
    assert err.text("en") == translate("error.404", "en")
    assert err.text("zh") == translate("error.404", "zh")
    assert str(err) == f"{translate('error.404', 'zh')} / {translate('error.404', 'en')}"
    plain = DossierError("原样 / as written")
    assert plain.text("en") == plain.text("zh") == "原样 / as written"


def test_a_stored_message_is_shown_in_the_readers_language():
    """A reason kept in the records as a message renders per language; older plain text is shown as written
    (of an older bilingual text, the reader's half)."""
    stored = Message("search.total", {"n": 1, "ms": 2}).dumps()
    assert load_stored(stored) == Message("search.total", {"n": 1, "ms": 2})
    assert render_stored(stored, "en") == "1 results (2 ms)"
    assert render_stored(stored, "zh") == "共 1 条结果（耗时 2 毫秒）"
    # an older bilingual text ("中文 / English") shows only the reader's half (issue 17: no mixed halves)
    assert render_stored("无法解析 / cannot parse", "en") == "cannot parse"
    assert render_stored("无法解析 / cannot parse", "zh") == "无法解析"
    assert render_stored('{"msg": 3}', "en") == '{"msg": 3}'
    assert render_stored(None, "zh") == ""


def test_composed_texts_render_store_and_print_like_messages():
    """texts(zh, en) renders per language, prints bilingually and survives storing."""
    m = texts("标题含“合同”", "title says 'contract'")
    assert m.render("en") == "title says 'contract'" and m.render("zh") == "标题含“合同”"
    assert str(m) == "标题含“合同” / title says 'contract'"
    assert load_stored(m.dumps()) == m
    assert render_stored(m.dumps(), "en") == "title says 'contract'"


def test_what_is_kept_for_a_reason_is_its_message():
    """``stored()``: a message and an error raised with one are kept as the message; plain text as it is; a
    message given as a parameter (a page's OCR reason in its warning) renders in the same language."""
    empty = msg("pipeline.empty_file")
    assert stored(empty) == empty.dumps() and load_stored(stored(empty)) == empty
    assert (
        stored(NotFound(msg("app.document.not_found", id=7))) == msg("app.document.not_found", id=7).dumps()
    )
    assert stored(DossierError("无法解析 / cannot parse")) == "无法解析 / cannot parse"
    assert stored("纯文本 / plain") == "纯文本 / plain" and stored(None) is None
    warning = msg("pipeline.ocr.page_failed", page=2, error=msg("pipeline.ocr_deferred").dumps())
    assert render_stored(warning.dumps(), "en") == translate(
        "pipeline.ocr.page_failed", "en", page=2, error="OCR was skipped at intake: run dossier ocr"
    )
    assert "dossier ocr" in render_stored(warning.dumps(), "zh") and '"msg"' not in render_stored(
        warning.dumps(), "zh"
    )


def test_a_template_behind_the_code_is_reported(tmp_path, monkeypatch):
    """dossier.pot lists exactly the ids the code uses; one written before new ids were added is out of date."""
    monkeypatch.setattr(catalogs, "CATALOG_DIR", tmp_path)
    catalogs.write_template(sorted(catalogs.extracted_ids())[:-1])
    assert "dossier.pot is out of date with the code (make messages)" in catalogs.problems()


def test_a_message_for_a_short_column_is_never_cut_into_broken_json():
    """stored_within keeps the stored form when it fits, else the bilingual text cut to the limit."""
    short = msg("pipeline.link.attachment", filename="报价单.pdf", evidence="全称一致")
    assert load_stored(stored_within(short, 500)) == short
    long = msg("pipeline.link.attachment", filename="很长的文件名" * 100, evidence="全称一致")
    kept = stored_within(long, 500)
    assert len(kept) == 500 and load_stored(kept) is None and kept.startswith("附件《很长的文件名")

"""Due dates on the document page and in the document API: the kind, the date and the sentence they came from."""

from __future__ import annotations

from html import unescape

SERVICE_CONTRACT = "技术服务合同_Pacific Rim_FW-2023-196.pdf"
SENTENCE = "服务期限自2023/10/21起至2024-10-20止。"


def test_the_document_page_shows_due_dates_with_their_sentences(admin, corpus_home):
    doc_id = corpus_home["id_of"](SERVICE_CONTRACT)
    html = unescape(admin.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert 'id="due-dates"' in html and "到期日" in html
    section = html[html.index('id="due-dates"') :]
    assert "合同到期" in section and "2024-10-20" in section and SENTENCE in section
    assert "续签" in section and "2024-09-20" in section and "期满前30日内，双方可协商续约事宜。" in section
    # the sentence links to its place in the page text
    assert "mark=1:" in section
    english = unescape(admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True))
    assert "Due dates" in english and "Contract ends" in english and SENTENCE in english


def test_a_document_without_due_dates_says_so(admin, corpus_home):
    doc_id = corpus_home["id_of"]("产品购销合同_昌隆精密_HT-2023-1213.md")
    html = unescape(admin.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert "文中未找到到期日" in html


def test_the_document_api_carries_the_due_dates(admin, corpus_home):
    doc_id = corpus_home["id_of"](SERVICE_CONTRACT)
    data = admin.get(f"/api/documents/{doc_id}").get_json()
    assert {"kind": "contract_end", "date": "2024-10-20", "sentence": SENTENCE, "page": 1}.items() <= next(
        d for d in data["due_dates"] if d["kind"] == "contract_end"
    ).items()
    assert [d["kind"] for d in data["due_dates"]] == ["contract_end", "renewal"]

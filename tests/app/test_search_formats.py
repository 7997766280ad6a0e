"""File formats and scans from real intake: what the records say becomes the index's format and scan fields,
and a data home whose index was written before them (schema 5) comes up right when it is opened."""

from __future__ import annotations

import json
import shutil

import pytest

from index import Principal, SearchRequest
from tests.conftest import DEV

FILES = {
    "contracts/产品购销合同_奥新商贸_HT-2024-0611.pdf": "pdf",
    "contracts/产品购销合同_Fabrikam_XS2024080606.docx": "word",
    "orders/订单_汇通供应链_20240614.xlsx": "excel",
    "emails/关于Microsoft 365 续订的报价.eml": "email",
    "scans/发票_海川物流_扫描.png": "image",
}


@pytest.fixture
def ingested(dossier, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    for name in FILES:
        shutil.copy(DEV / name, folder / name.split("/")[-1])
    summary = dossier.ingest_paths([folder])
    assert summary["ingested"] >= len(FILES), summary
    return {doc["file"].split("/")[-1]: doc["id"] for doc in summary["documents"]}


def _formats(dossier) -> tuple[dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    result = dossier.search(SearchRequest("", limit=100), Principal.system())
    facets = result["facets"]
    return (
        {f["value"]: f["count"] for f in facets.get("format", [])},
        {f["value"]: f["count"] for f in facets.get("scan", [])},
    )


def test_intake_gives_every_document_its_format_and_scans_their_flag(dossier, ingested):
    formats, scans = _formats(dossier)
    for name, kind in FILES.items():
        doc_id = ingested[name.split("/")[-1]]
        found = dossier.search(SearchRequest("", formats=(kind,), limit=100), Principal.system())
        assert doc_id in {h["id"] for h in found["hits"]}, (name, kind, formats)
    scanned = dossier.search(SearchRequest("", scans_only=True, limit=100), Principal.system())
    assert ingested["发票_海川物流_扫描.png"] in {h["id"] for h in scanned["hits"]}
    assert ingested["产品购销合同_奥新商贸_HT-2024-0611.pdf"] not in {h["id"] for h in scanned["hits"]}
    assert scans == {"scan": len(scanned["hits"])}


def test_a_home_indexed_before_formats_is_reindexed_when_it_opens(dossier, ingested, settings):
    from dossier.app.services import Dossier

    before = _formats(dossier)
    with dossier.engine.begin() as conn:
        for column in ("file_format", "scan"):
            conn.exec_driver_sql(f"ALTER TABLE search_doc DROP COLUMN {column}")
        conn.exec_driver_sql("UPDATE search_meta SET value = '5' WHERE key = 'schema'")
    dossier.close()
    reopened = Dossier.open(settings)
    try:
        assert not reopened.backend.needs_reindex()
        assert _formats(reopened) == before
        pdf = reopened.search(SearchRequest("format:pdf", limit=10), Principal.system())
        assert [h["id"] for h in pdf["hits"]] == [ingested["产品购销合同_奥新商贸_HT-2024-0611.pdf"]]
    finally:
        reopened.close()


def test_an_export_keeps_the_format_and_scan_filters():
    from dossier.app.export._service import request_from_json, request_to_json

    asked = SearchRequest("合同", formats=("pdf", "image"), scans_only=True)
    kept, _limit = request_from_json(json.loads(json.dumps(request_to_json(asked, None))))
    assert kept.formats == ("pdf", "image") and kept.scans_only

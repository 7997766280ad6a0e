"""The OpenAPI 3.1 description of /api (webui/openapi.py + webui/openapi.yaml): valid, complete, true.

- it validates as OpenAPI 3.1 (openapi-spec-validator);
- every route under /api in the app has a description, and every description a route;
- the real answers of the key routes (search, export plan, export file, upload, a background export's state,
  a document, a batch) carry every field their schema requires, with the documented types;
- /api/openapi.json and the readable /api/docs need no login, and /api/docs has no script.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from tests._api import token_for
from webui import openapi


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:
    return openapi.describe(app).spec


@pytest.fixture(scope="module")
def bearer(corpus_home) -> dict[str, str]:
    token = token_for(corpus_home["settings"].home, "admin")
    return {"Authorization": f"Bearer {token}"}


def _schema(spec: dict[str, Any], path: str, method: str, status: str, media: str = "application/json"):
    response = openapi.resolve(spec, spec["paths"][path][method]["responses"][status])
    return response["content"][media]["schema"]


def _check(spec: dict[str, Any], schema: dict[str, Any], data: Any) -> None:
    """``data`` against ``schema`` (references resolved in the whole description); every error listed."""
    validator = OAS31Validator({**schema, "components": spec["components"]})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_the_description_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearer"] == {
        **spec["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }


def test_every_api_route_is_described_and_every_description_is_a_route(app):
    described = openapi.describe(app)
    assert described.undocumented == [], "routes under /api without an entry in webui/openapi.yaml"
    assert described.unknown == [], "entries in webui/openapi.yaml for routes the app does not have"
    routes = openapi.api_routes(app)
    assert sum(len(m) for m in routes.values()) >= 50
    for path, methods in routes.items():
        for method in methods:
            operation = described.spec["paths"][path][method]
            assert operation.get("summary") and operation.get("responses"), f"{method} {path}"
            # every path parameter is declared, as an integer where the route converts one
            declared = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
            assert [p["name"] for p in declared] == re.findall(r"\{(\w+)\}", path), f"{method} {path}"
            for p in declared:
                if f"<int:{p['name']}>" in methods[method]:
                    assert p["schema"]["type"] == "integer", f"{method} {path} {p['name']}"


def test_a_route_without_a_description_is_reported(app, monkeypatch):
    """The check itself works: a description taken away shows as undocumented, an extra one as unknown."""
    source = openapi._source()
    trimmed = {**source, "paths": {k: v for k, v in source["paths"].items() if k != "/api/trash"}}
    trimmed["paths"]["/api/no-such-route"] = {"get": {"summary": "x", "responses": {}}}
    monkeypatch.setattr(openapi, "_source", lambda: trimmed)
    described = openapi.describe(app)
    assert described.undocumented == ["GET /api/trash"]
    assert described.unknown == ["GET /api/no-such-route"]


def test_search_answers_as_described(spec, client, bearer):
    answer = client.get("/api/search?q=合同&limit=5", headers=bearer)
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["hits"], "the populated home has contracts"
    _check(spec, _schema(spec, "/api/search", "get", "200"), data)


def test_export_plan_file_and_job_answer_as_described(spec, client, bearer):
    plan = client.get("/api/export/plan?q=合同&format=jsonl", headers=bearer)
    assert plan.status_code == 200
    _check(spec, _schema(spec, "/api/export/plan", "get", "200"), plan.get_json())
    exported = client.get("/api/export?q=合同&format=jsonl", headers=bearer)
    assert exported.status_code == 200
    assert exported.mimetype in spec["paths"]["/api/export"]["get"]["responses"]["200"]["content"]
    for header in spec["paths"]["/api/export"]["get"]["responses"]["200"]["headers"]:
        assert exported.headers[header].isdigit()
    assert int(exported.headers["X-Dossier-Hits"]) == len(exported.get_data(as_text=True).splitlines())
    # no worker serves the queue here: a background export is refused with the documented 503 and error
    started = client.post("/api/exports?q=合同&format=csv", headers=bearer)
    assert started.status_code in (202, 503)
    _check(spec, _schema(spec, "/api/exports", "post", str(started.status_code)), started.get_json())
    listed = client.get("/api/exports", headers=bearer)
    _check(spec, _schema(spec, "/api/exports", "get", "200"), listed.get_json())


def test_upload_answers_as_described(spec, client, bearer):
    body = {
        "files": [(io.BytesIO("OpenAPI 上传测试 报价单 数量 单价".encode()), "openapi-upload.txt")],
        "doc_type": "quote",
        "tags": "api, 测试",
    }
    answer = client.post("/api/upload", data=body, headers=bearer, content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_data(as_text=True)
    data = answer.get_json()
    _check(spec, _schema(spec, "/api/upload", "post", "202"), data)
    assert data["counts"]["queued"] + data["counts"]["duplicate"] == 1
    batch = client.get(data["batch_url"], headers=bearer)
    assert batch.status_code == 200
    _check(spec, _schema(spec, "/api/batches/{batch_id}", "get", "200"), batch.get_json())


def test_a_document_and_the_errors_answer_as_described(spec, client, bearer, corpus_home):
    doc_id = corpus_home["summary"]["documents"][0]["id"]
    document = client.get(f"/api/documents/{doc_id}", headers=bearer)
    _check(spec, _schema(spec, "/api/documents/{doc_id}", "get", "200"), document.get_json())
    missing = client.get("/api/documents/99999999", headers=bearer)
    assert missing.status_code == 404
    _check(spec, _schema(spec, "/api/documents/{doc_id}", "get", "404"), missing.get_json())
    refused = client.get("/api/search?q=合同", headers={"Authorization": "Bearer dsk_not-a-token"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    _check(spec, _schema(spec, "/api/search", "get", "401"), refused.get_json())


def test_the_description_and_its_page_need_no_login_and_run_no_script(client):
    served = client.get("/api/openapi.json")
    assert served.status_code == 200 and served.get_json()["openapi"] == "3.1.0"
    for lang, title in (("zh", "API 参考"), ("en", "API reference")):
        page = client.get(f"/api/docs?lang={lang}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert title in html
        assert "GET</span> <code>/api/search</code>" in html and "UploadResult" in html
        assert "<script>" not in html and "style=" not in html and "https://" not in html
        assert "script-src 'self';" in page.headers["Content-Security-Policy"]

"""The OpenAPI 3.1 description of the JSON API: ``GET /api/openapi.json`` and, readable, ``GET /api/docs``.

What exists comes from the app itself — every rule of the url_map under ``/api``, its methods and its
path parameters (``<int:doc_id>`` → ``{doc_id}``, an integer) — and what it means from
``webui/openapi.yaml`` beside this module (summaries, query parameters, bodies, answers and their
schemas, errors, the Bearer token scheme).  :func:`describe` merges the two and says what does not
match: a route without a description is still listed (marked ``x-undocumented``), a description
without a route is reported; tests/webui/test_openapi.py fails on either.

Both routes need no login (the description holds no data) and are rendered on the server: the page is
plain HTML under the app's strict CSP (no script, no CDN).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Flask, current_app, jsonify, render_template
from markupsafe import Markup, escape

bp = Blueprint("openapi", __name__, url_prefix="/api")

#: The hand-kept half of the description.
SOURCE = Path(__file__).with_name("openapi.yaml")
#: HTTP methods an operation can have, in the order the page lists them.
METHODS = ("get", "post", "put", "patch", "delete")
_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number"}}


@dataclass
class Description:
    """The merged description, and what did not match between the routes and ``openapi.yaml``."""

    spec: dict[str, Any]
    undocumented: list[str] = field(default_factory=list)  # "GET /api/x": a route without a description
    unknown: list[str] = field(default_factory=list)  # "GET /api/y": a description without a route


@functools.lru_cache(maxsize=1)
def _source() -> dict[str, Any]:
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/api/documents/<int:doc_id>`` → ``/api/documents/{doc_id}``."""
    return _ARGUMENT.sub(lambda m: "{" + m.group("name") + "}", rule)


def _path_parameters(rule: str, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    for m in _ARGUMENT.finditer(rule):
        name = m.group("name")
        schema = overrides.get(name) or _CONVERTER_SCHEMAS.get(m.group("converter") or "", {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def api_routes(app: Flask) -> dict[str, dict[str, str]]:
    """``{openapi path: {method: flask rule}}`` of every route under ``/api``."""
    routes: dict[str, dict[str, str]] = {}
    for rule in app.url_map.iter_rules():
        if not (rule.rule == "/api" or rule.rule.startswith("/api/")):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.setdefault(openapi_path(rule.rule), {})[method.lower()] = rule.rule
    return routes


def describe(app: Flask) -> Description:
    """The OpenAPI 3.1 description of ``app``'s ``/api`` routes (see the module docstring)."""
    source = copy.deepcopy(_source())
    described: dict[str, dict[str, Any]] = source.pop("paths", {}) or {}
    search_parameters = described.get("/api/search", {}).get("get", {}).get("parameters", [])
    routes = api_routes(app)
    result = Description(spec={**source, "paths": {}})
    for path in sorted(routes):
        item: dict[str, Any] = {}
        for method in METHODS:
            rule = routes[path].get(method)
            if rule is None:
                continue
            operation = copy.deepcopy(described.get(path, {}).get(method))
            if operation is None:
                result.undocumented.append(f"{method.upper()} {path}")
                operation = {
                    "summary": "(undocumented)",
                    "x-undocumented": True,
                    "responses": {"default": {"description": "not described yet"}},
                }
            overrides = operation.pop("x-path-parameters", {})
            parameters = _path_parameters(rule, overrides) + list(operation.get("parameters", []))
            if operation.pop("x-search-parameters", False):
                parameters += copy.deepcopy(search_parameters)
            parameters += operation.pop("x-extra-parameters", [])
            if parameters:
                operation["parameters"] = parameters
            operation.setdefault("operationId", f"{method}_{_slug(path)}")
            item[method] = operation
        result.spec["paths"][path] = item
    for path, item in described.items():
        for method in item:
            if method in METHODS and method not in routes.get(path, {}):
                result.unknown.append(f"{method.upper()} {path}")
    return result


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.removeprefix("/api/").lower()).strip("_") or "root"


def spec_for(app: Flask) -> dict[str, Any]:
    """The served description, built once per app."""
    cached = app.extensions.get("dossier_openapi")
    if cached is None:
        cached = app.extensions["dossier_openapi"] = describe(app).spec
    return cached


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with a top-level ``$ref`` followed (the page shows what a reference stands for)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def type_of(spec: dict[str, Any], schema: Any) -> str:
    """A short reading of a schema: ``integer``, ``string | null``, ``array of Hit``, ``Error`` …"""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "object" if "properties" in schema else "")
    if kind == "array":
        return f"array of {type_of(spec, schema.get('items', {})) or 'any'}"
    text = " | ".join(kind) if isinstance(kind, list) else str(kind)
    if "enum" in schema:
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    return text


def code_spans(text: str | None) -> Markup:
    """A description's text as HTML: escaped, its `backquoted` parts as <code>."""
    escaped = str(escape(text or ""))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI 3.1 description (JSON)."""
    return jsonify(spec_for(current_app))


@bp.get("/docs")
def docs_page() -> Any:
    """The description as a page: by tag, each operation with its parameters, body and answers; the schemas."""
    spec = spec_for(current_app)
    groups: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in spec.get("tags", [])}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            tag = (operation.get("tags") or ["meta"])[0]
            groups.setdefault(tag, []).append({"path": path, "method": method, "op": operation})
    return render_template(
        "api_docs/index.html",
        spec=spec,
        groups=groups,
        resolve=lambda node: resolve(spec, node),
        type_of=lambda schema: type_of(spec, schema),
        text=code_spans,
    )

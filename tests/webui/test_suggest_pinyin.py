"""``GET /api/suggest`` by pinyin (issue 18, item 5): ``guanghua``/``ghwl`` typed in the search box offer 光华物流.

The data home of tests/webui/test_suggest.py.  Pinyin matches rank after every written match; the
permission rule per role is tests/e2e/test_permission_matrix_pinyin.py.
"""

from __future__ import annotations

import pytest

from tests.conftest import login_client
from tests.webui.test_suggest import FULL, PASSWORD, _build


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    from webui import create_app

    built = _build(tmp_path_factory.mktemp("suggest-pinyin"))
    try:
        yield login_client(create_app(built["settings"], {"TESTING": True}), "admin", PASSWORD)
    finally:
        built["dossier"].close()


def _found(client, field: str, q: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    body = client.get("/api/suggest", query_string={"field": field, "q": q}).get_json()
    return [(s["value"], s["match"], s["kind"]) for s in body["suggestions"]]


def test_full_pinyin_and_initials_offer_the_customer(client):  # type: ignore[no-untyped-def]
    for field in ("customer", "search"):
        # From a name's first character before from inside one (武汉光华电子), then as written matches rank.
        assert _found(client, field, "guanghua") == [
            ("光华科技有限公司", "光华科技有限公司", "name"),
            (FULL, FULL, "name"),
            ("武汉光华电子有限公司", "武汉光华电子有限公司", "name"),
        ]
        assert _found(client, field, "ghwl") == [(FULL, FULL, "name")]
        assert _found(client, field, "guanghuawu") == [(FULL, FULL, "name")]
        assert _found(client, field, "GHWL") == [(FULL, FULL, "name")]  # any case while typing
    assert _found(client, "customer", "whgh") == [("武汉光华电子有限公司", "武汉光华电子有限公司", "name")]


def test_a_written_match_ranks_before_a_pinyin_one_and_short_fragments_do_not_try_pinyin(client):  # type: ignore[no-untyped-def]
    assert _found(client, "customer", "pac") == [
        ("Pacific Rim Trading Ltd", "Pacific Rim Trading Ltd", "name")
    ]
    assert _found(client, "customer", "gh") == []
    assert _found(client, "customer", "ghq") == []
    assert _found(client, "customer", "guanghua1") == []

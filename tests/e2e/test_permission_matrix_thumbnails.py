"""The permission matrix for first-page thumbnails (``GET /documents/<id>/thumbnail.png``), on each backend.

A document per confidentiality level for two customers (A owned by ``sales1``, B by ``sales2``) and one in the
trash (the small home of :mod:`tests._reminders`).  What each user may read is stated here from the reading rule
of the documents' matrix, independently of the code.  Every thumbnail is first drawn and cached for the admin, so
each check below meets a cached picture: it must still be refused (404, like a page image), also when the browser
sends the picture's current ETag, and the trash hides a thumbnail the moment a document goes there.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests._reminders import PASSWORD, USERS, build, doc_id
from tests.conftest import TANTIVY, backend_home, login_client
from tests.e2e.test_permission_matrix_reminders import allowed


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "thumbmatrix", tmp_path_factory, build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


@pytest.fixture(scope="module")
def etags(home, app) -> dict[int, str]:
    """Each readable document's thumbnail, drawn (and cached) once as the admin: id -> ETag."""
    client = login_client(app, "admin", PASSWORD)
    out = {}
    for doc in home["docs"]:
        response = client.get(f"/documents/{doc}/thumbnail.png")
        assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
        out[doc] = response.headers["ETag"]
    return out


@pytest.mark.parametrize("username", list(USERS))
def test_a_thumbnail_is_served_only_to_who_may_read_the_document(home, app, etags, username):
    client = login_client(app, username, PASSWORD)
    for doc, (level, key) in home["docs"].items():
        want = allowed(username, level, key)
        plain = client.get(f"/documents/{doc}/thumbnail.png")
        assert plain.status_code == (200 if want else 404), (username, level, key)
        assert plain.data.startswith(b"\x89PNG") == want
        # the browser's copy is no way around the check: a current ETag is a 304 only for a reader
        known = client.get(f"/documents/{doc}/thumbnail.png", headers={"If-None-Match": etags[doc]})
        assert known.status_code == (304 if want else 404), (username, level, key)
    trashed = client.get(f"/documents/{home['trashed']}/thumbnail.png")
    assert trashed.status_code == 404 and not trashed.data.startswith(b"\x89PNG")


def test_sales_never_sees_another_reps_confidential_thumbnail(home, app, etags):
    client = login_client(app, "sales1", PASSWORD)
    assert client.get(f"/documents/{doc_id(home, 'confidential', 'A')}/thumbnail.png").status_code == 200
    assert client.get(f"/documents/{doc_id(home, 'confidential', 'B')}/thumbnail.png").status_code == 404
    viewer = login_client(app, "viewer1", PASSWORD)
    assert viewer.get(f"/documents/{doc_id(home, 'internal', 'A')}/thumbnail.png").status_code == 404


def test_the_trash_hides_a_cached_thumbnail_at_once(home, app, etags):
    from index import Principal

    d: Any = home["dossier"]
    doc = doc_id(home, "internal", "A")
    client = login_client(app, "sales1", PASSWORD)
    assert client.get(f"/documents/{doc}/thumbnail.png").status_code == 200
    d.trash.trash(doc, Principal.system())
    try:
        assert client.get(f"/documents/{doc}/thumbnail.png").status_code == 404
        again = client.get(f"/documents/{doc}/thumbnail.png", headers={"If-None-Match": etags[doc]})
        assert again.status_code == 404
    finally:
        d.trash.restore(doc, Principal.system())
    assert client.get(f"/documents/{doc}/thumbnail.png").status_code == 200

"""Recall on the dev corpus: every judged query finds every relevant file, with a marked snippet."""

from __future__ import annotations

import pytest

from index import IndexDocument, Principal, SearchRequest
from tests.conftest import load_queries, load_truth


@pytest.fixture(scope="module")
def corpus_backend(tmp_path_factory):
    """Every dev truth file with expect ok, indexed from its truth text (e-mails with attachments)."""
    import sqlalchemy as sa

    from index import open_backend

    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('recall') / 'recall.db'}")
    backend = open_backend(engine)
    files: dict[int, str] = {}
    docs = []
    for i, t in enumerate(load_truth(), start=1):
        if t.get("expect") != "ok":
            continue
        text = t.get("text") or ""
        for att in t.get("attachments") or []:
            text += "\n" + (att.get("text") or "")
        files[i] = t["file"]
        docs.append(
            IndexDocument(
                id=i,
                title=t.get("title") or "",
                text=text,
                filename=t["file"].rsplit("/", 1)[-1],
                doc_type=t.get("doc_type") or "other",
                date=t.get("date"),
            )
        )
    backend.index(docs)
    yield backend, files
    engine.dispose()


QUERIES = [q for q in load_queries()]


@pytest.mark.parametrize("q", QUERIES, ids=[f"{q['id']}-{q['kind']}" for q in QUERIES])
def test_query_recall(corpus_backend, q):
    """Positive queries return every relevant file and mark a match; negative ones return nothing."""
    backend, files = corpus_backend
    result = backend.search(SearchRequest(q["q"], limit=1000), Principal.system())
    found = {files[h.id] for h in result.hits}
    if q["kind"].startswith("negative"):
        assert found == set()
        return
    missing = set(q["relevant"]) - found
    assert not missing, f"{q['q']!r} missed {sorted(missing)}"
    for hit in result.hits:
        assert "<mark>" in hit.snippet, (q["q"], files[hit.id], hit.snippet)

"""``entry_ids``: every id an index holds, whatever its size, for ``dossier check`` (each backend)."""

from __future__ import annotations

from index import IndexDocument, SearchBackend


def test_entry_ids_lists_every_entry_once_after_adds_and_deletes(backend: SearchBackend) -> None:
    """GIVEN entries added in several batches (a superseded version's negative id among them) and some deleted,
    WHEN the ids are listed in pages smaller than the index, THEN each entry left is listed exactly once."""
    backend.index([IndexDocument(id=i, title=f"文档{i}", text="合同") for i in range(1, 26)])
    backend.index([IndexDocument(id=-7, title="旧版", text="合同", version=1, document_id=3)])
    backend.delete([4, 9])
    backend.settle()
    listed = list(backend.entry_ids(batch=10))  # type: ignore[call-arg]
    assert sorted(listed) == sorted([-7, *(i for i in range(1, 26) if i not in (4, 9))])


def test_entry_ids_of_an_empty_index_is_empty(backend: SearchBackend) -> None:
    """A fresh index lists nothing."""
    assert list(backend.entry_ids()) == []

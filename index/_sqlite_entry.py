"""One document's entry in the embedded index, computed from the document alone.

:func:`entry_of` is a pure function of the document and the segmenters' user words (no database), so
a rebuild may compute entries in other processes (:mod:`index._rebuild`) and the writer stores
them as they come.  The ``content`` blob packs the original text (for snippets) with the jieba
``words`` stream, zlib-compressed with a preset dictionary (:func:`pack`, :func:`unpack`); the other
streams are recomputed from the stored texts when an entry is deleted (:func:`derived_streams`,
:func:`words_column`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from foundation.messages import msg
from index._analysis import normalize_text, words
from index._common import InvalidDocument, check_document
from index._common import meta_text as document_meta_text
from index._gramstream import grams_stream
from index._pinyin import meta_pinyin
from index._types import IndexDocument
from index._vocabulary import terms_of

__all__ = ["Entry", "Streams", "derived_streams", "entry_of", "pack", "streams_of", "unpack", "words_column"]


@dataclass(frozen=True, slots=True)
class Streams:
    """The texts a document is searched by: what an index tokenizes, and the metadata text for snippets."""

    meta_text: str  # the metadata text (filename, customers, tags, entities) stored for snippets
    title: str  # the title column's tokens
    meta: str  # the meta column's tokens
    grams: str  # the grams column's tokens
    words_column: str  # the words column: the jieba words stream, then the pinyin of the title and names


@dataclass(frozen=True, slots=True)
class Entry(Streams):
    """What the embedded index writes for one document, besides its filter columns: the streams, the blob and
    the vocabulary terms."""

    blob: bytes  # the content blob: the original text and the words stream (which depends on the dictionary
    # of the day, so a delete reads it back rather than segmenting again; :func:`pack`)
    terms: frozenset[str]  # the words "did you mean" learns from it (index._vocabulary)


def _analysed(doc: IndexDocument) -> tuple[Streams, str]:
    """(the streams of ``doc``, its jieba words stream); raises :class:`InvalidDocument` for a refused one."""
    check_document(doc)
    meta_text = document_meta_text(doc)
    body = normalize_text(doc.text)  # once, for both the grams and the words
    words_stream = " ".join(words(body))
    streams = Streams(
        meta_text=meta_text,
        title=grams_stream(doc.title),
        meta=grams_stream(meta_text),
        grams=grams_stream(doc.text, body),
        words_column=words_column(words_stream, doc.title, meta_text),
    )
    return streams, words_stream


def streams_of(doc: IndexDocument) -> Streams:
    """The streams of ``doc`` alone (what the Tantivy index writes; raises :class:`InvalidDocument`)."""
    return _analysed(doc)[0]


def entry_of(doc: IndexDocument) -> Entry:
    """The entry of ``doc`` (raises :class:`InvalidDocument` for a document the index refuses)."""
    streams, words_stream = _analysed(doc)
    return Entry(
        meta_text=streams.meta_text,
        title=streams.title,
        meta=streams.meta,
        grams=streams.grams,
        words_column=streams.words_column,
        blob=pack(doc.text, words_stream),
        terms=frozenset(terms_of(words_stream, (doc.title, streams.meta_text, doc.text))),
    )


def derived_streams(title: str, meta_text: str, body: str) -> tuple[str, str, str]:
    """The streams that follow from the stored texts alone: title, meta, grams."""
    return grams_stream(title), grams_stream(meta_text), grams_stream(body)


def words_column(words_stream: str, title: str, meta_text: str) -> str:
    """The ``words`` column: the stored jieba words, then the pinyin of the title and metadata names.

    The pinyin is recomputed from the stored texts (a pure function of them), not stored: a
    ``'delete'`` repeats it exactly, and a rebuild after an analysis change adds it.  It goes in
    the long ``words`` column, where its length barely moves bm25's length normalisation.
    """
    pinyin = meta_pinyin(title, meta_text)
    if not pinyin:
        return words_stream
    return words_stream + " " + " ".join(pinyin) if words_stream else " ".join(pinyin)


# A preset zlib dictionary of common Chinese words (the most frequent words of
# jieba's own dictionary, frozen in the repository so stored blobs stay
# readable whatever jieba version is installed).  Short Chinese documents
# compress about 9% better with it.  The first byte of a blob names its format.
_ZDICT = (Path(__file__).with_name("_zdict.txt")).read_text(encoding="utf-8").strip().encode("utf-8")
_FORMAT_ZDICT_V1 = b"\x01"


#: A compressor primed with the dictionary; each blob starts from a copy (the same bytes as a new one, without
#: loading the dictionary again).
_PRIMED = zlib.compressobj(9, zdict=_ZDICT)


def pack(text: str, words_stream: str) -> bytes:
    """The ``content`` blob of a document: its original text and its words stream."""
    comp = _PRIMED.copy()
    return _FORMAT_ZDICT_V1 + comp.compress(f"{len(text)}:{text}{words_stream}".encode()) + comp.flush()


def unpack(blob: bytes) -> tuple[str, str]:
    """(original text, words stream) from a ``content`` blob."""
    if blob[:1] != _FORMAT_ZDICT_V1:
        raise InvalidDocument(msg("index.sqlite.unknown_format"))
    raw = zlib.decompressobj(zdict=_ZDICT).decompress(blob[1:]).decode("utf-8")
    head, _, rest = raw.partition(":")
    n = int(head)
    return rest[:n], rest[n:]

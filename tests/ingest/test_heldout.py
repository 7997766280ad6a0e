"""A held-out check: entity finders and the document-type guess on documents the rules never saw.

``heldout/`` holds short business documents (contracts, quotes, VAT invoices and 数电票,
meeting notes, visit records, e-mail-like text, orders, a proposal, a customer profile and
two other documents) written apart from the dev corpus, with other labels, layouts, date and
amount formats and some OCR-like noise.  ``heldout/truth.json`` gives, per file, the expected
document type and the expected normalised entities (the normal forms of the corpus README; as
in the dev truth, a company's 字号 + 行业 short name counts wherever it stands; a discount line
keeps its minus sign, amounts in a foreign currency are not amounts, a date needs a year,
month and day).  h34–h41 were written after the finders had been fixed on h01–h33, as a
second unseen check.  Each file is parsed for real (:func:`ingest.parse_file`), and
the per-kind micro F1 over the whole set must reach the issue's targets.

    .venv/bin/python tests/ingest/test_heldout.py      # the scores with misses and extras
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HELD_OUT = Path(__file__).resolve().parent / "heldout"

if __name__ == "__main__":  # run as a script from the repository root
    sys.path.insert(0, str(HELD_OUT.parents[2]))

import ingest  # noqa: E402

#: The issue's lowest F1 per kind; the code kinds are held to the contract-number target.
TARGETS = {
    "phone": 0.97,
    "email": 0.97,
    "uscc": 0.97,
    "date": 0.97,
    "amount": 0.97,
    "contract_no": 0.97,
    "company": 0.93,
    "person": 0.90,
    "quote_no": 0.97,
    "order_no": 0.97,
    "invoice_code": 0.97,
    "invoice_no": 0.97,
}
DOC_TYPE_TARGET = 0.95
_NAMES = ("company", "person")


def _truth() -> dict[str, Any]:
    return json.loads((HELD_OUT / "truth.json").read_text(encoding="utf-8"))


def _key(kind: str, value: str) -> str:
    """A value as it is compared: NFKC; names without spaces and case; e-mail lower; codes upper."""
    v = unicodedata.normalize("NFKC", value).strip()
    if kind in _NAMES:
        return re.sub(r"\s+", "", v).casefold()
    if kind == "email":
        return v.lower()
    if kind not in ("phone", "amount", "date"):
        return re.sub(r"\s+", "", v).upper()
    return v


@dataclass
class Score:
    """Counts for one kind, with the values missed and the values found in excess."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def f1(self) -> float:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Result:
    scores: dict[str, Score]
    types_right: int
    types_total: int
    type_misses: list[str]


def evaluate() -> Result:
    """Parse and score every held-out file."""
    scores = {kind: Score() for kind in TARGETS}
    right, misses = 0, []
    truth = _truth()
    for name, want_doc in sorted(truth.items()):
        path = HELD_OUT / name
        parsed = ingest.parse_file(path, filename=name)
        entities = ingest.extract_entities([p.text for p in parsed.pages])
        values = ingest.entity_values(entities)
        for kind, score in scores.items():
            if kind == "uscc":
                want = {f"{_key(kind, v['value'])}/{v['valid']}" for v in want_doc["entities"][kind]}
                have = {f"{_key(kind, e.value)}/{e.valid}" for e in entities if e.kind == "uscc"}
            else:
                want = {_key(kind, v) for v in want_doc["entities"][kind]}
                have = {_key(kind, v) for v in values[kind]}
            score.tp += len(want & have)
            score.fp += len(have - want)
            score.fn += len(want - have)
            score.missed += [f"{name}: {v}" for v in sorted(want - have)]
            score.extra += [f"{name}: {v}" for v in sorted(have - want)]
        guess = ingest.guess_doc_type(parsed, name, entities)
        if guess.code == want_doc["doc_type"]:
            right += 1
        else:
            misses.append(f"{name}: want {want_doc['doc_type']}, got {guess.code} ({guess.reason})")
    return Result(scores, right, len(truth), misses)


@pytest.fixture(scope="module")
def result() -> Result:
    return evaluate()


def test_truth_is_consistent() -> None:
    """Every literal truth value occurs in its file, and every kind is listed."""
    for name, doc in _truth().items():
        text = unicodedata.normalize("NFKC", (HELD_OUT / name).read_text(encoding="utf-8"))
        flat = re.sub(r"\s+", "", text).casefold()
        assert doc["doc_type"] in ingest.DOC_TYPES, name
        assert set(doc["entities"]) == set(TARGETS), name
        for kind in (
            "company",
            "person",
            "email",
            "contract_no",
            "quote_no",
            "order_no",
            "invoice_code",
            "invoice_no",
        ):
            for value in doc["entities"][kind]:
                assert _key(kind, value).casefold() in flat, (name, kind, value)
        for item in doc["entities"]["uscc"]:
            assert item["value"] in text, (name, item)
            assert ingest.uscc_is_valid(item["value"]) is item["valid"], (name, item)


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_entity_f1_on_held_out_documents(result: Result, kind: str) -> None:
    score = result.scores[kind]
    assert score.f1 >= TARGETS[kind], (
        f"{kind} F1 {score.f1:.3f} < {TARGETS[kind]}; missed {score.missed[:8]}; extra {score.extra[:8]}"
    )


def test_doc_type_accuracy_on_held_out_documents(result: Result) -> None:
    accuracy = result.types_right / result.types_total
    assert accuracy >= DOC_TYPE_TARGET, f"accuracy {accuracy:.3f}; misses {result.type_misses}"


def _report() -> None:
    res = evaluate()
    for kind, s in res.scores.items():
        flag = "PASS" if s.f1 >= TARGETS[kind] else "FAIL"
        print(f"{kind:13} F1 {s.f1:.3f}  tp {s.tp:3} fp {s.fp:3} fn {s.fn:3}  {flag}")
        for m in s.missed:
            print(f"      missed  {m}")
        for x in s.extra:
            print(f"      extra   {x}")
    print(f"doc_type      {res.types_right}/{res.types_total} = {res.types_right / res.types_total:.3f}")
    for m in res.type_misses:
        print(f"      {m}")


if __name__ == "__main__":
    _report()

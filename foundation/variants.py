"""Traditional Chinese characters folded to simplified ones, per character, from OpenCC's data.

Search, the customer linker and the name filters compare text after :func:`fold_variants`, so
報價單 and 报价单, 臺灣 and 台湾, 後來 and 后来 compare equal.  The fold is one character for
one character (a ``str.translate`` table): offsets into the folded text are offsets into the
original, so snippets still mark the characters the document has.

The table (``variants.txt`` beside this module) is *derived*, never edited by hand:
``python -m foundation.variants`` writes it from the dictionaries that the OpenCC package
ships (``TSCharacters``, ``TSCharactersExt``, ``STCharacters``, ``TWVariantsRev``,
``HKVariantsRev`` and their phrase tables), and a test checks that it is what the installed
OpenCC gives.  The rule, chosen so that no search in simplified Chinese changes its answers:

* a traditional character (a key of ``TSCharacters``/``TSCharactersExt``) is folded to
  OpenCC's default simplified form (the first candidate, what ``OpenCC("t2s")`` writes for
  it alone) — **unless it is itself a character of simplified Chinese**: a candidate of
  any traditional character, or a key of ``STCharacters``.  乾 (干/乾), 於 (于/於), 著, 瞭,
  藉, 覆, 徵, 沈, 像 … stay as they are, because simplified text writes them with meanings
  of their own (乾隆, 著作); folding them would make a simplified search find what it did
  not ask for.  A folded character never occurs in simplified text, so simplified
  documents and queries are untouched, and the fold is idempotent (targets are simplified).
* a Taiwan or Hong Kong variant (``TWVariantsRev``/``HKVariantsRev``: 衞, 粧, 敍 …) that is
  not otherwise covered is folded the same way through its standard form, unless its
  conversion depends on the phrase it stands in (it appears in a ``…RevPhrases`` table:
  著) or it is a simplified character itself.
* Nothing depends on context: OpenCC's phrase tables (``TSPhrases``: 乾燥 → 干燥, 頭髮 → 头发)
  cannot be used per character, and a fold that looked at neighbours would break "every
  substring of a document is found".  So 乾燥 and 干燥 stay different (乾 is not folded),
  while 頭髮 and 头发 match (髮 → 发; 發 → 发 too, so 頭發 matches as well).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

__all__ = [
    "OPENCC_DICTIONARIES",
    "derive_variants",
    "fold_variants",
    "spellings",
    "variant_table",
    "variants",
]

_TABLE = Path(__file__).with_name("variants.txt")

#: The OpenCC dictionaries the table is derived from (``share/opencc/<name>.ocd2`` in the package).
OPENCC_DICTIONARIES = (
    "TSCharacters",
    "TSCharactersExt",
    "STCharacters",
    "TWVariantsRev",
    "HKVariantsRev",
    "TWVariantsRevPhrases",
    "HKVariantsRevPhrases",
)


@cache
def variants() -> dict[str, str]:
    """Every folded character and the simplified one it becomes (from ``variants.txt``)."""
    lines = [line for line in _TABLE.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    return {line[0]: line[2] for line in lines}  # "src<TAB>dst", one character each


@cache
def variant_table() -> dict[int, int]:
    """:func:`variants` as a ``str.translate`` table."""
    table = variants()
    return str.maketrans("".join(table), "".join(table.values()))


def fold_variants(text: str) -> str:
    """``text`` with traditional characters folded to simplified ones, as long as ``text``."""
    return text.translate(variant_table())


@cache
def _spellings() -> dict[str, str]:
    out: dict[str, str] = {}
    for src, dst in variants().items():
        out[dst] = out.get(dst, dst) + src
    return out


def spellings(ch: str) -> str:
    """Every character that folds as ``ch`` folds, the simplified one first (发 → 发發髮; x → x).

    For matching raw text without folding it: a character class per character of a folded query.
    """
    folded = variants().get(ch, ch)
    return _spellings().get(folded, folded)


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F


def _read_opencc(names: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    """The named OpenCC dictionaries as {key: candidates}, dumped with the package's ``opencc_dict``."""
    import opencc  # only to find its data: the running application reads the derived table

    clib = Path(opencc.__file__).with_name("clib")
    tool, share = clib / "bin" / "opencc_dict", clib / "share" / "opencc"
    out: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            dump = Path(tmp) / f"{name}.txt"
            subprocess.run(
                [str(tool), "-i", str(share / f"{name}.ocd2"), "-o", str(dump), "-f", "ocd2", "-t", "text"],
                check=True,
                capture_output=True,
            )
            table: dict[str, list[str]] = {}
            for line in dump.read_text(encoding="utf-8").splitlines():
                key, _, values = line.partition("\t")
                table[key] = values.split(" ")
            out[name] = table
    return out


def derive_variants() -> dict[str, str]:
    """The fold table from the installed OpenCC's dictionaries, by the rule in the module docstring."""
    d = _read_opencc(OPENCC_DICTIONARIES)
    ts = {**d["TSCharactersExt"], **d["TSCharacters"]}
    simplified = {c for candidates in ts.values() for c in candidates} | set(d["STCharacters"])
    fold: dict[str, str] = {}
    for src, candidates in ts.items():
        dst = candidates[0]
        if (
            len(src) == len(dst) == 1
            and src != dst
            and src not in simplified
            and _is_cjk(src)
            and _is_cjk(dst)
        ):
            fold[src] = dst
    in_phrases = {c for name in ("TWVariantsRevPhrases", "HKVariantsRevPhrases") for p in d[name] for c in p}
    for name in ("TWVariantsRev", "HKVariantsRev"):
        for src, candidates in d[name].items():
            if len(candidates) != 1 or len(src) != 1 or src in fold or src in simplified or src in in_phrases:
                continue
            dst = fold.get(candidates[0], candidates[0])
            if dst != src and len(dst) == 1 and _is_cjk(src) and _is_cjk(dst) and dst not in fold:
                fold[src] = dst
    return dict(sorted(fold.items()))


def _write(path: Path) -> int:
    import opencc

    fold = derive_variants()
    header = (
        f"# Traditional -> simplified, one character each: derived from OpenCC {opencc.__version__}'s\n"
        f"# dictionaries ({', '.join(OPENCC_DICTIONARIES)}) by `python -m foundation.variants`.\n"
        "# Do not edit: regenerate (the rule is in foundation/variants.py).\n"
    )
    path.write_text(header + "".join(f"{src}\t{dst}\n" for src, dst in fold.items()), encoding="utf-8")
    return len(fold)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    count = _write(_TABLE)
    sys.stdout.write(f"{_TABLE}: {count} characters\n")

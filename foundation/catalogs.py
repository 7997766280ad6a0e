"""Keep the message catalogs complete: extract the ids the code uses, find what is missing or unused.

``make messages`` runs ``python -m foundation.catalogs``: it writes ``foundation/locale/dossier.pot``
(every id found by Babel's extraction with ``babel.cfg``), adds each id missing from a language's
``.po`` as an empty entry for a translator to fill, and prints the problems :func:`problems`
finds. The test suite (``tests/foundation/test_messages.py``) fails on any of them, so a message
cannot ship in one language only.

Ids built at run time (``"status." + code``) are not found by extraction; they live under the
prefixes of :data:`DYNAMIC_PREFIXES`, or appear as a literal in a script or ``js_messages(...)``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from foundation.messages import CATALOG_DIR, DOMAIN, LANGUAGES, catalog_path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("foundation", "ingest", "index", "records", "pipeline", "dossier", "workers", "webui")
KEYWORDS = {"_": None, "gettext": None, "msg": None, "translate": (1,), "N_": None}

#: Families of ids whose last part is a code known only at run time.
DYNAMIC_PREFIXES = (
    "audit.action.",
    "audit.type.",
    "conf.",
    "customers.contact.",
    "customers.owner.",
    "customers.status.",
    "customers.total.",
    "customers.type.",
    "entity.",
    "error.",
    "export.filter.",
    "export.format.",
    "export.status.",
    "facet.",
    "jobs.count.",
    "jobs.source.",
    "jobs.state.",
    "link.method.",
    "reminders.source.",
    "reminders.status.",
    "retention.hold_on_",
    "retention.state.",
    "sort.",
    "status.",
    "upload.customer.",
)

#: English texts that show Chinese on purpose: the other language's name, Chinese example queries,
#: the separators people type, and the registry's Chinese customer types after their English names.
CHINESE_IN_ENGLISH = frozenset(
    {
        "lang.switch",
        "search.placeholder",
        "customers.search_placeholder",
        "customers.edit.aliases_hint",
        "customers.type.current",
        "customers.type.lost",
        "customers.type.prospect",
    }
)

_CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
_PLACEHOLDER = re.compile(r"\{(\w+)[^{}]*\}")
_LITERAL = re.compile(r"[\"']([a-z_]+(?:\.[a-z0-9_]+)+)[\"']")


def extracted_ids() -> set[str]:
    """Every message id Babel's extraction finds in the packages (Python and templates)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]  # Babel has no hints here
    found: set[str] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map, options_map, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def _literals() -> set[str]:
    """Dotted ids written as literals anywhere in the code, scripts and templates."""
    seen: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.suffix in {".py", ".html", ".js"}:
                seen.update(_LITERAL.findall(path.read_text(encoding="utf-8")))
    return seen


def read_catalog(lang: str) -> Catalog:
    """One language's ``.po`` catalog as Babel reads it."""
    with catalog_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def problems() -> list[str]:
    """Everything that keeps the catalogs from being complete and consistent (empty when they are)."""
    found: list[str] = []
    for lang in LANGUAGES:  # Babel keeps the last of two entries silently; a merge could make two
        written = re.findall(r'^msgid "(.+)"$', catalog_path(lang).read_text(encoding="utf-8"), re.M)
        found.extend(
            f"{lang}: {mid} is written twice" for mid in sorted({m for m in written if written.count(m) > 1})
        )
    catalogs = {lang: read_catalog(lang) for lang in LANGUAGES}
    texts = {lang: {str(m.id): m for m in po if m.id} for lang, po in catalogs.items()}
    ids = {lang: set(entries) for lang, entries in texts.items()}
    zh, en = texts["zh"], texts["en"]
    for lang, entries in texts.items():
        for mid, m in entries.items():
            if not m.string:
                found.append(f"{lang}: {mid} has no text")
            elif m.fuzzy:
                found.append(f"{lang}: {mid} is marked fuzzy (check the text, then drop the flag)")
    for mid in sorted(ids["zh"] ^ ids["en"]):
        found.append(f"{mid} is in one catalog only")
    for mid in sorted(ids["zh"] & ids["en"]):
        a, b = _placeholders(str(zh[mid].string)), _placeholders(str(en[mid].string))
        if a != b:
            found.append(f"{mid}: placeholders differ (zh {sorted(a)}, en {sorted(b)})")
        if mid not in CHINESE_IN_ENGLISH and _CJK.search(str(en[mid].string)):
            found.append(f"en: {mid} shows Chinese: {en[mid].string!r}")
    used = extracted_ids()
    template = CATALOG_DIR / f"{DOMAIN}.pot"
    with template.open("rb") as handle:
        if {str(m.id) for m in read_po(handle) if m.id} != used:
            found.append(f"{template.name} is out of date with the code (make messages)")
    for mid in sorted(used - ids["zh"]):
        found.append(f"{mid} is used in the code but missing from the catalogs (make messages)")
    literals = _literals()
    for mid in sorted(ids["zh"] - used):
        if mid not in literals and not mid.startswith(DYNAMIC_PREFIXES):
            found.append(f"{mid} is in the catalogs but nothing uses it")
    return found


def write_template(ids: Iterable[str]) -> Path:
    """Write ``dossier.pot`` (sorted ids, no texts) for translation tools."""
    template = Catalog(domain=DOMAIN, project="Dossier", charset="utf-8")
    for mid in sorted(ids):
        template.add(mid)
    path = CATALOG_DIR / f"{DOMAIN}.pot"
    with path.open("wb") as handle:
        write_po(handle, template, width=0, omit_header=True)
    return path


def add_missing(ids: Iterable[str]) -> dict[str, list[str]]:
    """Append an empty entry for each id a language lacks; returns what was added per language."""
    added: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        po = read_catalog(lang)
        missing = sorted(set(ids) - {str(m.id) for m in po if m.id})
        for mid in missing:
            po.add(mid, "")
        if missing:
            with catalog_path(lang).open("wb") as handle:
                write_po(handle, po, width=0, sort_output=False)
        added[lang] = missing
    return added


def main(argv: list[str] | None = None) -> int:
    """``python -m foundation.catalogs``: extract, add missing entries, print problems; 1 if any."""
    ids = extracted_ids()
    print(f"{write_template(ids).relative_to(ROOT)}: {len(ids)} ids")
    for lang, missing in add_missing(ids).items():
        for mid in missing:
            print(f"{lang}: added {mid} (fill in its text)")
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

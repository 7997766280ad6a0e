"""User-facing messages by id, in Chinese and English, from gettext catalogs.

The texts live in ``foundation/locale/<lang>/LC_MESSAGES/dossier.po`` (one catalog per language,
the files translators work on; ``make messages`` extracts the ids the code uses into
``dossier.pot`` and merges them into both catalogs). A message id names what is said
(``"ingest.pdf.encrypted"``); its text is a ``str.format`` pattern (``"{name} 已加密"``).

- :func:`translate` renders an id in one language (Chinese when a text is missing in English,
  the id itself when it is missing in both: the completeness test in ``tests/foundation`` keeps
  that from happening).
- :func:`msg` makes a :class:`Message`, what code below the web layer raises or records: the
  id and its parameters, rendered late in the reader's language. ``str()`` of a message is
  the bilingual form ``"中文 / English"`` that the CLI and the logs print.
- :func:`texts` makes a message from two texts the code composes itself from its own tables
  (document-type evidence, password feedback): it behaves like any other.
- A message kept in the records (a failure reason, a job's error) is stored with
  :meth:`Message.dumps` and shown with :func:`render_stored`, which also shows texts stored
  before messages had ids as they were written.
"""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

__all__ = [
    "CATALOG_DIR",
    "DOMAIN",
    "LANGUAGES",
    "Message",
    "catalog",
    "catalog_path",
    "has_message",
    "load_stored",
    "msg",
    "render",
    "render_stored",
    "stored",
    "stored_within",
    "texts",
    "translate",
]

LANGUAGES = ("zh", "en")
DOMAIN = "dossier"
CATALOG_DIR = Path(__file__).with_name("locale")
_STORED_PREFIX = '{"msg":'


def catalog_path(lang: str) -> Path:
    """The ``.po`` file of one language."""
    return CATALOG_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(lang: str) -> Mapping[str, str]:
    """Message id -> text of one language, read once from its ``.po`` catalog (fuzzy entries skipped)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
    with catalog_path(lang).open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in po
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def has_message(message_id: str) -> bool:
    """Whether the catalogs know a message id."""
    return message_id in catalog("zh")


def translate(message_id: str, lang: str, /, **params: Any) -> str:
    """The text of ``message_id`` in ``lang`` with ``params`` filled in.

    Falls back to Chinese when the language lacks the id, and to the id itself when no catalog
    has it. A placeholder without a parameter stays as written (``{name}``) rather than failing.
    """
    text = catalog(lang if lang in LANGUAGES else "zh").get(message_id) or catalog("zh").get(message_id)
    if text is None:
        return message_id
    return _fill(text, params) if params else text


def _fill(pattern: str, params: Mapping[str, Any]) -> str:
    class _Keep(dict[str, Any]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    try:
        return string.Formatter().vformat(pattern, (), _Keep(params))
    except (ValueError, IndexError, AttributeError, KeyError):
        return pattern


@dataclass(frozen=True)
class Message:
    """A message id with its parameters, rendered in the reader's language when shown."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Texts per language written by the code itself from its own tables (see :func:`texts`).
    texts: Mapping[str, str] | None = None

    def render(self, lang: str) -> str:
        """This message in ``lang`` (a parameter that is itself a message, or a stored one, in ``lang`` too)."""
        if self.texts is not None:
            return self.texts.get(lang) or self.texts.get("zh") or ""
        return translate(self.id, lang, **{key: _param(value, lang) for key, value in self.params.items()})

    def bilingual(self) -> str:
        """``"中文 / English"`` (one text when both are the same), for the CLI and the logs."""
        zh, en = self.render("zh"), self.render("en")
        return zh if zh == en else f"{zh} / {en}"

    def dumps(self) -> str:
        """A JSON text to keep in the records; :func:`render_stored` shows it again."""
        data: dict[str, Any] = {"msg": self.id, "params": dict(self.params)}
        if self.texts is not None:
            data["texts"] = dict(self.texts)
        return json.dumps(data, ensure_ascii=False, default=str)

    def __str__(self) -> str:
        return self.bilingual()


def _param(value: Any, lang: str) -> Any:
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, str) and value.startswith(_STORED_PREFIX):
        return render_stored(value, lang)
    return value


def msg(message_id: str, /, **params: Any) -> Message:
    """A :class:`Message` (the name the extraction looks for: ``msg("id", name=...)``)."""
    return Message(message_id, params)


def texts(zh: str, en: str) -> Message:
    """A message whose two texts the code composes itself (not from the catalogs).

    For explanations built from a module's own tables of Chinese and English phrases — the
    evidence of a document-type guess, a password checker's feedback — which render, store and
    print like any other message.
    """
    return Message("", {}, {"zh": zh, "en": en})


def render(message: str | Message, lang: str) -> str:
    """A message in ``lang``; a plain string is shown as it is."""
    return message.render(lang) if isinstance(message, Message) else message


def load_stored(text: str | None) -> Message | None:
    """The message a stored text holds, or None when it is plain text (or nothing)."""
    if not text or not text.startswith(_STORED_PREFIX):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("msg"), str):
        return None
    params = data.get("params")
    written = data.get("texts")
    if isinstance(written, dict) and all(isinstance(v, str) for v in written.values()):
        return Message(data["msg"], {}, written)
    return Message(data["msg"], params if isinstance(params, dict) else {})


def stored(what: Message | BaseException | str | None) -> str | None:
    """The text to keep in the records for a reason: a message's :meth:`Message.dumps`, an error's
    message (its :class:`Message` when it has one, else its text), a plain string as it is."""
    if what is None or isinstance(what, str):
        return what
    if isinstance(what, Message):
        return what.dumps()
    message = getattr(what, "msg", None)
    if isinstance(message, Message):
        return message.dumps()
    return str(getattr(what, "message", None) or what)


def stored_within(message: Message, limit: int) -> str:
    """``message`` for a column that keeps at most ``limit`` characters: its stored form when that fits,
    else its bilingual text cut to the limit (a cut stored form would no longer read as a message)."""
    value = message.dumps()
    return value if len(value) <= limit else str(message)[:limit]


def render_stored(text: str | None, lang: str) -> str:
    """A stored reason or error in ``lang``: a stored message rendered, older plain text as written — but of an
    older bilingual text (``"中文 / English"``, :meth:`Message.bilingual`) only the half in ``lang``."""
    message = load_stored(text)
    if message is not None:
        return message.render(lang)
    halves = bilingual_halves(text or "")
    if halves is not None:
        return halves[1] if lang == "en" else halves[0]
    return text or ""


_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|「[^」]*」")


def bilingual_halves(text: str) -> tuple[str, str] | None:
    """``("中文", "English")`` of a text written as ``"中文 / English"`` (Chinese before the first `` / `` that
    has no Chinese after it but in quotes, and English words after it); None for any other text."""
    start = 0
    while (at := text.find(" / ", start)) >= 0:
        zh, en = text[:at].strip(), text[at + 3 :].strip()
        if _CJK.search(zh) and not _CJK.search(_QUOTED.sub("", en)) and _LATIN_WORD.search(en):
            return zh, en
        start = at + 3
    return None

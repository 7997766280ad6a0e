"""The web's language: ``?lang=``, then the session, then the settings; messages from the catalogs.

Templates and views call ``_("search.total", n=3, ms=1.2)``: a message id of the gettext catalogs
(:mod:`foundation.messages`), a ``str.format`` pattern. ``?lang=en`` on any page switches the
language and the session remembers it. :func:`say` renders what lower layers hand up (an error's
:class:`~foundation.messages.Message`, a stored reason) in the request's language.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, g, request, session

from foundation.errors import DossierError
from foundation.messages import LANGUAGES, Message, load_stored, render_stored, translate
from foundation.messages import has_message as _has_message
from ingest import DOC_TYPES
from pipeline.activity_index import KIND_LABELS


def get_language() -> str:
    """Return the language of the current request (``zh`` or ``en``)."""
    if "lang" not in g:
        wanted = request.args.get("lang", "")
        if wanted in LANGUAGES:
            session["lang"] = wanted
        lang = session.get("lang")
        if lang not in LANGUAGES:
            lang = current_app.config.get("DEFAULT_LANGUAGE", "zh")
        g.lang = lang if lang in LANGUAGES else "zh"
    return str(g.lang)


def gettext(message_id: str, **params: Any) -> str:
    """Translate a message id into the current language (the id itself if unknown)."""
    return translate(message_id, get_language(), **params)


def say(what: DossierError | Message | str | None) -> str:
    """An error, a message or a stored reason in the request's language (plain text as written)."""
    if isinstance(what, DossierError):
        return what.text(get_language())
    if isinstance(what, Message):
        return what.render(get_language())
    return render_stored(what, get_language())


def localized(data: Any) -> Any:
    """``data`` (what the app returns for a JSON answer) with every message in it rendered in the request's
    language: stored reasons and errors (``Message.dumps()`` texts) and Message objects; the rest unchanged."""
    if isinstance(data, str):
        return say(data) if load_stored(data) is not None else data
    if isinstance(data, Message):
        return say(data)
    if isinstance(data, dict):
        return {key: localized(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [localized(value) for value in data]
    return data


def has_message(message_id: str) -> bool:
    """Whether a message id exists (templates fall back to raw values otherwise)."""
    return _has_message(message_id)


def doc_type_label(code: str | None) -> str:
    """The label of a document type code in the current language."""
    if not code:
        return ""
    labels = DOC_TYPES.get(code) or ACTIVITY_TYPE_LABELS.get(code)
    if labels is None:
        return code
    return labels[1] if get_language() == "en" else labels[0]


#: The ``doc_type`` of the index entries of activities and comments: (中文, English).
ACTIVITY_TYPE_LABELS = {"activity": ("沟通记录", "Activity"), "comment": ("评论", "Comment")}


def activity_kind_label(kind: str | None) -> str:
    """The label of an activity kind (call → 电话 / call) in the current language."""
    labels = KIND_LABELS.get(kind or "")
    if labels is None:
        return kind or ""
    return labels[1] if get_language() == "en" else labels[0]


def js_messages(*message_ids: str) -> dict[str, str]:
    """Message patterns in the current language for a static script (it fills ``{name}`` itself)."""
    lang = get_language()
    return {k: translate(k, lang) for k in message_ids if _has_message(k)}


def lang_switch_query() -> str:
    """The current query string with ``lang`` set to the other language (for the header link)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", "en" if get_language() == "zh" else "zh"))
    return urlencode(args)


def init_app(app: Flask) -> None:
    """Make ``_()``, ``lang``, ``doc_type_label()`` and ``js_messages()`` available to templates."""
    app.jinja_env.globals.update(
        _=gettext,
        say=say,
        has_message=has_message,
        doc_type_label=doc_type_label,
        activity_kind_label=activity_kind_label,
        lang_switch_query=lang_switch_query,
        js_messages=js_messages,
    )

    @app.context_processor
    def _inject_language() -> dict[str, Any]:
        lang = get_language()
        return {"lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en"}

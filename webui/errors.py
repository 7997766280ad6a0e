"""One error handler: ``{"error": message}`` JSON under ``/api``, a friendly page everywhere else."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from foundation.errors import DossierError
from webui.auth import is_api
from webui.i18n import gettext as _
from webui.i18n import has_message, say


def _default_message(status: int) -> str:
    key = f"error.{status}"
    if status == 413:  # says the limit, so the user knows how much less to send
        return _(key, mb=current_app.config["DOSSIER_SETTINGS"].get_int("DOSSIER_MAX_FILE_MB"))
    return _(key) if has_message(key) else _("error.500")


def handle_error(exc: Exception) -> Any:
    """Turn any exception into a response with the right status and a message a user can act on."""
    if isinstance(exc, DossierError):
        status, message = exc.status, say(exc)
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        # werkzeug's stock English descriptions are replaced by ours; our own abort() texts are kept.
        own = exc.description if exc.description != type(exc).description else None
        message = own or _default_message(status)
    else:
        current_app.logger.exception("unhandled error on %s", request.path)
        exc = InternalServerError()
        status, message = 500, _("error.500")

    if is_api():
        response = jsonify({"error": message})
        response.status_code = status
    else:
        response = current_app.make_response(
            (render_template("error.html", status=status, message=message), status)
        )
    if isinstance(exc, HTTPException) and exc.code == 405:
        response.headers["Allow"] = ", ".join(exc.valid_methods or ())  # type: ignore[attr-defined]
    return response


def init_app(app: Flask) -> None:
    """Register :func:`handle_error` for every exception."""
    app.register_error_handler(Exception, handle_error)

"""The Dossier web UI: a Flask app factory, one blueprint per module, templates per blueprint.

``create_app()`` reads settings from the environment; tests pass their own
``Settings`` (and ``test_config`` overrides).  The one :class:`~dossier.services.Dossier`
an app talks to lives in ``app.extensions["dossier"]`` (see :mod:`webui.core`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from dossier.config import Settings, load_settings

__all__ = ["create_app"]

#: Response headers every page and file gets (a CSP comes with a later issue).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app: defaults, then settings from the environment, then test overrides."""
    app = Flask(__name__)
    app.config.from_mapping(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="dossier_session",
        JSON_SORT_KEYS=False,
        SEARCH_PAGE_SIZE=20,
        API_MAX_LIMIT=100,
    )

    settings = settings if settings is not None else load_settings()
    app.config["DOSSIER_SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.secret_key()
    app.config["DEFAULT_LANGUAGE"] = settings.get("DOSSIER_LANGUAGE")
    # A request body (an upload) is bounded by the same limit as a file ingested any other way.
    app.config["MAX_CONTENT_LENGTH"] = settings.get_int("DOSSIER_MAX_FILE_MB") * 1024 * 1024

    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = app.config["JSON_SORT_KEYS"]  # type: ignore[attr-defined]

    from webui import (
        api,
        auth,
        core,
        customers,
        document_edit,
        documents,
        errors,
        export,
        health,
        i18n,
        intake,
        jobs,
        search,
    )

    core.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    errors.init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(document_edit.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app

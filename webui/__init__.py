"""The Dossier web UI: a Flask app factory, one blueprint per module, templates per blueprint.

``create_app()`` reads settings from the environment; tests pass their own
``Settings`` (and ``test_config`` overrides).  The one :class:`~dossier.app.services.Dossier`
an app talks to lives in ``app.extensions["dossier"]`` (see :mod:`webui.core`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from foundation.config import Settings, load_settings

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "create_app"]

#: Scripts, styles, images and forms only from this origin: no inline scripts or styles, no
#: plugins, no framing, no ``<base>`` tricks.  A page that a stored ``<script>`` got into anyway
#: could not run it.  (An original shown inline gets a stricter ``sandbox`` policy of its own.)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self';"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: Endpoints that set their own cache header: static files, and thumbnails (``private`` with an ETag,
#: revalidated each time so that the reader's right is checked).  Everything else is ``no-store``.
CACHEABLE = ("static", "thumbnails.thumbnail")

#: Response headers every page and file gets.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
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
    # The zone every page shows times in; an unknown name stops the app here, not on the first page.
    app.config["DOSSIER_ZONE"] = settings.timezone
    # A request body (an upload) is bounded by the same limit as a file ingested any other way.
    app.config["MAX_CONTENT_LENGTH"] = settings.get_int("DOSSIER_MAX_FILE_MB") * 1024 * 1024
    # Served as https (the public address says so): the session cookie never travels over plain
    # http.  A request that itself came over HTTPS gets a Secure cookie anyway (webui.auth).
    app.config["SESSION_COOKIE_SECURE"] = settings.get("DOSSIER_PUBLIC_URL").lower().startswith("https://")
    # DOSSIER_ALLOWED_HOSTS set: a request for any other Host is refused with 400 before any view
    # runs (None: any Host is answered, and links are never built from it: webui.export.base_url).
    app.config["TRUSTED_HOSTS"] = settings.trusted_hosts
    # The built manual (webui.docs_site): DOSSIER_DOCS_DIR, else build/site beside the code.
    if settings.get("DOSSIER_DOCS_DIR"):
        app.config["DOCS_SITE"] = str(Path(settings.get("DOSSIER_DOCS_DIR")).expanduser().resolve())

    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = app.config["JSON_SORT_KEYS"]  # type: ignore[attr-defined]

    from webui import (
        activities,
        admin,
        api,
        auth,
        bulk,
        core,
        customers,
        dashboard,
        document_edit,
        documents,
        errors,
        export,
        health,
        i18n,
        intake,
        jobs,
        notifications,
        reminders,
        retention,
        search,
        suggest,
        thumbnails,
        trash,
        views,
    )

    core.init_app(app)
    i18n.init_app(app)
    from webui import labels, timefmt

    timefmt.init_app(app)
    labels.init_app(app)
    auth.init_app(app)
    errors.init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(thumbnails.bp)
    app.register_blueprint(document_edit.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(trash.bp)
    app.register_blueprint(retention.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(reminders.bp)
    app.register_blueprint(reminders.api_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(activities.bp)
    app.register_blueprint(activities.api)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.api)
    app.register_blueprint(bulk.bp)
    app.register_blueprint(bulk.api)
    app.register_blueprint(suggest.bp)
    from webui import api_upload, docs_site, openapi  # the manual at /docs, the API's own description

    app.register_blueprint(api_upload.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(docs_site.bp)

    proxies = settings.get_int("DOSSIER_PROXY_COUNT")
    if proxies > 0:
        # Trust exactly that many X-Forwarded-For/-Proto/-Host hops: the client address the
        # login limits count, and whether the request came over HTTPS (Secure cookies).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint not in CACHEABLE and "no-store" not in response.headers.get("Cache-Control", ""):
            # Customer files, search hits and exports stay out of browser and proxy caches.
            response.headers["Cache-Control"] = "no-store"
        return response

    return app

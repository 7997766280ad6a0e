"""Log in and out; ``login_required``; a per-session CSRF token checked on every form POST.

Routes: ``GET/POST /auth/login``, ``POST /auth/logout``.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from dossier.errors import NotFound
from webui.core import get_dossier
from webui.i18n import gettext as _

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = TypeVar("F", bound=Callable[..., Any])

CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return str(token)


def _check_csrf() -> None:
    """Reject a state-changing request whose form does not carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        abort(400, description=_("error.csrf"))


def _load_user() -> None:
    """Put the signed-in user's :class:`Principal` on ``g`` (``None`` when nobody is)."""
    g.principal = None
    username = session.get("username")
    if not username or request.endpoint == "static":
        return
    try:
        g.principal = get_dossier().principal_for(username)
    except NotFound:
        # The account was removed or disabled since login: drop the session.
        session.pop("username", None)
        g.account_gone = True


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page (the API answers 401 JSON instead)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:
            if request.blueprint == "api":
                abort(401)
            if g.get("account_gone"):
                flash(_("login.gone"), "error")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative paths after login (no open redirects)."""
    if not target:
        return url_for("search.index")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("search.index")
    return target


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    """Show the login form; on POST check the password and start a fresh session."""
    error = None
    status = 200
    next_url = request.values.get("next", "")
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        principal = get_dossier().authenticate(username, password) if username and password else None
        if principal is None:
            error = _("login.failed")
            status = 401
        else:
            lang = session.get("lang")
            session.clear()  # a new session id's worth of state: no fixation
            session["username"] = principal.username
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(next_url))
    return render_template("auth/login.html", error=error, next_url=next_url), status


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
    """End the session (POST with the CSRF token, so other sites cannot log people out)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("logout.done"), "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Check CSRF and load the user before every request; expose the token to templates."""
    app.before_request(_check_csrf)
    app.before_request(_load_user)
    app.jinja_env.globals["csrf_token"] = csrf_token

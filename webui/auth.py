"""Log in and out; ``login_required``; a per-session CSRF token checked on every form POST; API tokens.

Routes: ``GET/POST /auth/login``, ``POST /auth/logout``.

First of all, a request for a Host outside DOSSIER_ALLOWED_HOSTS (when set) is answered 400.

Who a request acts for (``g.principal``) is decided once, before every request:

- under ``/api/``, an ``Authorization: Bearer <token>`` header authenticates as the token's
  user (no cookie, no CSRF token needed; a bad, revoked or expired token, or a disabled user's,
  is 401 JSON).  A token never works for HTML pages: there the header is ignored.
- otherwise the web session.  Sessions live on the server (``user_sessions``): the signed
  cookie carries only a random key (with the user's id and a stamp of their password hash) and
  every request reads that session row (one primary-key read, with its user): it must exist,
  not have ended, belong to that user, the user must be active and have the same password.  Logging out ends the row, so a copy of the cookie kept
  from before is refused; a password change, a new role or disabling the account end all the
  user's sessions at once.  A session idle for longer than ``DOSSIER_SESSION_IDLE_MINUTES`` is
  ended (with a message and a ``logout`` event, reason ``idle``); the pages' own automatic
  refreshes (GET requests under ``/api``) do not count as activity.  The row's and the user's
  ``last_seen_at`` are written at most once a minute.

The cookie is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` whenever the request came over
HTTPS (also behind trusted proxies, ``DOSSIER_PROXY_COUNT``) or ``DOSSIER_PUBLIC_URL`` is https.
Logging in starts a new session (nothing of a cookie planted earlier carries over but the
language; a session the cookie held is ended).  Logins, logouts and failures are audit events
(see :mod:`dossier.app._accounts`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import SecurityError

from dossier.app import LoginThrottled, SessionEnded
from foundation.errors import NotFound
from foundation.messages import msg
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = TypeVar("F", bound=Callable[..., Any])

CSRF_FIELD = "csrf_token"
#: Flask-WTF's CSRF protection, run by :func:`_authenticate` (not for every request: a request that
#: authenticates with an API token carries no cookie, so it needs no CSRF token).
csrf = CSRFProtect()


def csrf_token() -> str:
    """This session's CSRF token for a form or the ``X-CSRF-Token`` header (Flask-WTF's, signed)."""
    return str(generate_csrf())


#: Cookie keys: the server-side session's random key, the id of the user it belongs to, and a stamp of their
#: password hash (a password changed by any path ends the session).
SESSION_KEY, UID_KEY, STAMP_KEY = "sid", "uid", "stamp"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, ``Secure`` also whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """``SESSION_COOKIE_SECURE`` (set from an https DOSSIER_PUBLIC_URL) or an HTTPS request."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def client_ip() -> str:
    """The client's address (the proxies of DOSSIER_PROXY_COUNT already taken off by ProxyFix)."""
    return request.remote_addr or "unknown"


def is_api() -> bool:
    """Whether the request is for the JSON API (``/api`` and below)."""
    return request.path == "/api" or request.path.startswith("/api/")


def _bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, else None."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _check_csrf() -> None:
    """Reject a state-changing request whose form (or ``X-CSRF-Token`` header) does not carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        csrf.protect()
    except CSRFError:
        abort(400, description=_("error.csrf"))


def _end_session() -> None:
    """Forget everything of the cookie but its language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _load_session_user() -> None:
    """Put the session's user on ``g``; a session that is over (idle, logged out, disabled, …) clears the cookie."""
    key = session.get(SESSION_KEY)
    if not key or request.endpoint == "static":
        return
    uid = session.get(UID_KEY)
    # The pages' own polls (GET /api/…) keep no session alive; people's requests do.
    active = not (is_api() and request.method in ("GET", "HEAD"))
    try:
        g.principal = get_dossier().accounts.principal_for_session(
            str(key),
            user_id=uid if isinstance(uid, int) else -1,
            stamp=str(session.get(STAMP_KEY, "")),
            client_ip=client_ip(),
            touch=active,
        )
    except SessionEnded as exc:
        _end_session()
        if exc.reason == "idle":
            g.session_idle = True
        elif exc.reason == "disabled":
            g.account_gone = True
        else:
            g.session_ended = True


def _authenticate() -> None:
    """Decide who this request acts for (module docstring): API token, else CSRF check and session."""
    g.principal = None
    g.via_token = False
    token = _bearer_token() if is_api() else None
    if token is not None:
        try:
            g.principal = get_dossier().accounts.principal_for_token(token)
        except NotFound as exc:
            g.token_refused = True
            abort(401, description=say(exc))
        g.via_token = True  # a header no other site can send: no cookie, no CSRF
        return
    _check_csrf()
    _load_session_user()


def _www_authenticate(response: Any) -> Any:
    """A 401 of the API says how to authenticate."""
    if response.status_code == 401 and has_request_context() and is_api():
        error = ' error="invalid_token"' if g.get("token_refused") else ""
        response.headers.setdefault("WWW-Authenticate", f'Bearer realm="dossier"{error}')
    return response


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page (the API answers 401 JSON instead)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:
            if request.blueprint == "api":
                abort(401)
            if g.get("account_gone"):
                flash(_("login.gone"), "error")
            elif g.get("session_ended"):
                flash(_("login.ended"), "info")
            elif g.get("session_idle"):
                flash(
                    _("login.idle", minutes=get_dossier().settings.get_int("DOSSIER_SESSION_IDLE_MINUTES")),
                    "info",
                )
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
    """Show the login form; on POST check the password and start a fresh session.

    Every failure answers the same message (wrong password, unknown user, disabled or locked
    account); only too many failures from this address answer 429 with the wait.
    """
    error = None
    status = 200
    headers: dict[str, str] = {}
    next_url = request.values.get("next", "")
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        d = get_dossier()
        try:
            principal = (
                d.accounts.authenticate(username, password, client_ip=client_ip())
                if username and password
                else None
            )
        except LoginThrottled as exc:
            principal = None
            error, status = _("login.throttled", minutes=exc.minutes), 429
            headers["Retry-After"] = str(exc.retry_after_s)
        else:
            if principal is None:
                error, status = _("login.failed"), 401
        if principal is not None:
            previous = session.get(SESSION_KEY)
            if previous:
                d.accounts.end_session(str(previous), "relogin", client_ip=client_ip())
            _end_session()  # a new session: nothing planted before login carries over (no fixation)
            assert principal.user_id is not None
            opened = d.accounts.start_session(principal.user_id, client_ip=client_ip())
            session[SESSION_KEY], session[UID_KEY], session[STAMP_KEY] = (
                opened.key,
                principal.user_id,
                opened.stamp,
            )
            return redirect(_safe_next(next_url))
    return render_template("auth/login.html", error=error, next_url=next_url), status, headers


@bp.route("/logout", methods=("POST",))
def logout() -> Any:
    """End the session on the server and forget the cookie (POST with the CSRF token, so other sites cannot
    log people out).  A copy of the cookie is worth nothing from then on."""
    key = session.get(SESSION_KEY)
    _end_session()
    if key:
        get_dossier().accounts.end_session(str(key), "user", client_ip=client_ip())
    flash(_("logout.done"), "info")
    return redirect(url_for("auth.login"))


#: What a request for a Host outside DOSSIER_ALLOWED_HOSTS gets (with 400).
#: Bilingual: nothing of the request (its session, its language) may be read.
UNTRUSTED_HOST = str(msg("web.untrusted_host"))


def _refuse_untrusted_host() -> Response | None:
    """A request for a Host outside ``TRUSTED_HOSTS`` ends here with 400, before anything reads the session.

    Flask notes the bad Host while it routes the request; nothing of the request may run, and
    no page can be rendered for it (no URL can be built for that host), so the answer is plain.
    """
    if not isinstance(request.routing_exception, SecurityError):
        return None
    if is_api():
        response = jsonify({"error": UNTRUSTED_HOST})
    else:
        response = Response(UNTRUSTED_HOST + "\n", mimetype="text/plain")
    response.status_code = 400
    return response


def init_app(app: Flask) -> None:
    """Refuse untrusted hosts; authenticate every request (token, CSRF, session); the Secure-aware cookie; the
    CSRF token in templates."""
    app.session_interface = SessionInterface()
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # _authenticate decides: cookie requests are checked, token requests not
        WTF_CSRF_FIELD_NAME=CSRF_FIELD,
        WTF_CSRF_HEADERS=["X-CSRF-Token", "X-CSRFToken"],
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session (which ends on the server, see above)
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Lax and the token already stop cross-site posts
    )
    csrf.init_app(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_untrusted_host)
    app.before_request(_authenticate)
    app.after_request(_www_authenticate)
    app.jinja_env.globals["csrf_token"] = csrf_token

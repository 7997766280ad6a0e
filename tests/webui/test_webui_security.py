"""Web hardening (issue 7): security headers on every response, stored XSS from hostile files,
CSRF on every POST route, session fixation, idle time-out, Secure cookies, the login limits
through the real form, and API tokens — on real data homes (SQLite) and, for the CSP, in
headless Chromium.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from dossier.app.services import Dossier
from foundation.config import load_settings
from index import Principal, SearchRequest
from records import ApiToken, Document, UserSession, utcnow
from tests.conftest import audit_events
from tests.webui.conftest import CORPUS, _csrf_from
from tests.webui.test_webui_browser import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401 - the fixture
from webui import CONTENT_SECURITY_POLICY, create_app
from webui.auth import SESSION_KEY, STAMP_KEY, UID_KEY

PASSWORD = "Sicher-Passw0rd-1"

#: The hostile files of the dev corpus: scripts in HTML, a PDF with JavaScript, formulas in a CSV,
#: external entities in DOCX, broken and locked files, a very long name.
BAD = CORPUS / "bad"
HOSTILE_NAME = "\"><svg onload=alert('XSSCANARY')>报价<script>alert(1)</script>.txt"
HOSTILE_TEXT = (
    '报价附件 </p><script>alert(\'XSSCANARY\')</script><div style="x" onmouseover="alert(2)">悬停</div>'
)
HOSTILE_CUSTOMER = "<img src=x onerror=alert('XSSCANARY')>海豚科技有限公司"
HOSTILE_TAG = "<b onclick=alert(3)>标签</b>"


class _PageChecker(HTMLParser):
    """Collects every construct a stored XSS would need, or the CSP would block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.problems.append(f"inline or foreign <script {values}>")
        if tag in ("style", "iframe", "object", "embed", "svg", "base", "frame"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.problems.append(f"{name}={value!r} on <{tag}>")


def page_problems(html: str) -> list[str]:
    """What in ``html`` could run script or would break under the CSP (empty = nothing)."""
    checker = _PageChecker()
    checker.feed(html)
    checker.close()
    return checker.problems


def _csrf(client, path: str = "/") -> str:
    """The CSRF token of the page at ``path``."""
    return _csrf_from(client.get(path).get_data(as_text=True))


def _log_in(client, username: str, password: str = PASSWORD, **environ: str):
    token = _csrf(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base=environ,
    )


def _home(tmp_path: Path, **env: str) -> tuple[Dossier, object]:
    """A fresh, initialised data home with admin, lily (sales) and vera (viewer), and its app."""
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_WORKERS": "1",
            **env,
        },
        dotenv=tmp_path / "no.env",
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    d.accounts.add_user("lily", "sales", PASSWORD)
    d.accounts.add_user("vera", "viewer", PASSWORD)
    return d, create_app(settings, test_config={"TESTING": True})


# -- a home full of hostile files --------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Every file of corpus/dev/bad, and a text file with a hostile name and content, given a hostile
    customer name and tag at intake; returns the Dossier, the app and the document ids."""
    if not BAD.is_dir():
        pytest.skip(f"test corpus not found at {BAD}")
    tmp = tmp_path_factory.mktemp("hostile")
    d, app = _home(tmp)
    extra = tmp / "extra"
    extra.mkdir()
    (extra / HOSTILE_NAME.replace("/", "_")).write_text(HOSTILE_TEXT, encoding="utf-8")
    d.ingest_paths(sorted(BAD.iterdir()), ocr=False)
    d.ingest_paths([extra], customer=HOSTILE_CUSTOMER, tags=[HOSTILE_TAG], ocr=False)
    with d.sessions() as session:
        ids = list(session.scalars(select(Document.id).order_by(Document.id)))
    assert len(ids) >= len(list(BAD.iterdir()))
    yield {"dossier": d, "app": app, "ids": ids}
    d.close()


@pytest.fixture()
def hostile_admin(hostile):
    client = hostile["app"].test_client()
    assert _log_in(client, "admin").status_code == 302
    return client


def _pages(hostile, client) -> list[str]:
    """Every page a person could reach in the hostile home."""
    d = hostile["dossier"]
    paths = [
        "/",
        "/?q=XSSCANARY",
        "/?q=蓝鲸",
        "/?q=报价",
        "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/?q=示例客户",
        "/upload",
        "/jobs",
        "/customers",
        "/customers?status=suggested",
    ]
    for doc_id in hostile["ids"]:
        paths += [
            f"/documents/{doc_id}",
            f"/documents/{doc_id}?q=XSSCANARY",
            f"/documents/{doc_id}/edit",
            f"/documents/{doc_id}/delete",
        ]
    with d.sessions() as session:
        from records import Customer, IngestBatch

        paths += [f"/customers/{cid}" for cid in session.scalars(select(Customer.id))]
        paths += [f"/customers/{cid}/edit" for cid in session.scalars(select(Customer.id))]
        paths += [f"/jobs/{bid}" for bid in session.scalars(select(IngestBatch.id))]
    return paths


def test_hostile_files_names_customers_and_tags_are_shown_as_text(hostile, hostile_admin):
    """GIVEN the bad/ files and a file whose name, text, customer and tag are HTML WHEN the admin opens
    every page THEN no page carries a script, event handler, style or javascript: URL that we did not write,
    and the hostile text is there, escaped."""
    seen_escaped = False
    checked = 0
    for path in _pages(hostile, hostile_admin):
        r = hostile_admin.get(path)
        assert r.status_code == 200, (path, r.status_code)
        html = r.get_data(as_text=True)
        assert page_problems(html) == [], path
        for raw in ("<script>alert", "<img src=x", "<svg", "<b onclick"):  # unescaped, they would be tags
            assert raw not in html, (path, raw)
        seen_escaped = seen_escaped or "&lt;script&gt;alert(" in html
        checked += 1
    assert seen_escaped and checked > 40
    # The hostile customer, tag and file name survive as text where they are listed.
    assert "&lt;img src=x onerror=alert(&#39;XSSCANARY&#39;)&gt;海豚科技有限公司" in hostile_admin.get(
        "/customers?status=suggested"
    ).get_data(as_text=True) + hostile_admin.get("/?q=报价").get_data(as_text=True)
    hits = hostile_admin.get("/?q=报价附件").get_data(as_text=True)
    assert "&lt;b onclick=alert(3)&gt;标签&lt;/b&gt;" in hits and "报价&lt;script&gt;" in hits


def test_the_api_returns_hostile_text_as_json_data(hostile, hostile_admin):
    """The JSON API is JSON (never sniffed as HTML): the hostile file name comes back as a plain string."""
    r = hostile_admin.get("/api/search?q=报价附件")
    assert r.mimetype == "application/json" and r.headers["X-Content-Type-Options"] == "nosniff"
    [hit] = r.get_json()["hits"]
    assert (
        "<svg onload=alert('XSSCANARY')>报价<script>alert(1)<_script>" in hit["filename"]
    )  # "/" cannot be in a name


def test_downloads_of_hostile_files_are_attachments_that_cannot_run(hostile, hostile_admin):
    """The HTML original, the hostile name: attachment, a safe ASCII name plus the UTF-8 one, octet-stream
    for active types, and a sandbox policy."""
    d = hostile["dossier"]
    by_name = {d.show(i, Principal.system())["filename"]: i for i in hostile["ids"]}
    html_id = by_name["产品介绍_蓝鲸.html"]
    r = hostile_admin.get(f"/documents/{html_id}/download")
    assert r.status_code == 200 and r.mimetype == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="')
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    name_id = next(i for n, i in by_name.items() if "svg onload" in n)
    disposition = hostile_admin.get(f"/documents/{name_id}/download").headers["Content-Disposition"]
    ascii_part = disposition.split(";")[1]
    assert (
        "<" not in ascii_part and '"' not in ascii_part.split("=", 1)[1].strip('"') and "/" not in ascii_part
    )
    assert "filename*=UTF-8''" in disposition and "%3Cscript%3E" in disposition


def test_every_response_has_the_security_headers(hostile, hostile_admin):
    """Pages, JSON, downloads, error pages, the login page and static files all carry CSP, nosniff, frame
    denial and a referrer policy; everything but static files is no-store."""
    doc_id = hostile["ids"][0]
    anonymous = hostile["app"].test_client()
    responses = {
        path: hostile_admin.get(path)
        for path in (
            "/",
            "/?q=报价",
            f"/documents/{doc_id}",
            f"/documents/{doc_id}/download",
            "/customers",
            "/upload",
            "/jobs",
            "/api/search?q=报价",
            "/api/status",
            "/documents/999999",
            "/no-such-page",
        )
    }
    responses["/auth/login"] = anonymous.get("/auth/login")
    responses["/api/search (401)"] = anonymous.get("/api/search?q=x")
    static = anonymous.get("/static/dossier.css")
    for path, r in [*responses.items(), ("/static/dossier.css", static)]:
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["X-Frame-Options"] == "DENY", path
        assert r.headers["Referrer-Policy"] == "same-origin", path
        csp = r.headers["Content-Security-Policy"]
        if path.endswith("/download"):
            assert csp.startswith("sandbox"), path
        else:
            assert csp == CONTENT_SECURITY_POLICY, path
        if path != "/static/dossier.css":
            assert "no-store" in r.headers["Cache-Control"], path
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert (
        "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "object-src 'none'" in CONTENT_SECURITY_POLICY
    )


# -- CSRF ---------------------------------------------------------------------------------------


def _post_rules(app) -> list[str]:
    """Every route that accepts POST, with its id parts filled in."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()):
            paths.append(re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule))
    return sorted(set(paths))


def test_every_post_route_refuses_a_missing_or_forged_csrf_token(hostile, hostile_admin):
    """GIVEN a logged-in admin WHEN any POST route is called without the session's token, or with another
    one THEN 400 and nothing changes (the document that a forged delete named is still there)."""
    routes = _post_rules(hostile["app"])
    assert len(routes) >= 14 and "/auth/login" in routes and "/documents/1/delete" in routes
    for path in routes:
        for data, headers in (({}, {}), ({"csrf_token": "forged"}, {}), ({}, {"X-CSRF-Token": "forged"})):
            r = hostile_admin.post(path, data=data, headers=headers)
            assert r.status_code == 400, (path, data, headers, r.status_code)
            assert "表单已过期" in r.get_data(as_text=True) or "表单已过期" in (
                r.get_json(silent=True) or {}
            ).get("error", "")
    first = hostile["ids"][0]
    assert hostile_admin.post(f"/documents/{first}/delete", data={"confirm": "1"}).status_code == 400
    assert hostile_admin.get(f"/documents/{first}").status_code == 200


# -- sessions -----------------------------------------------------------------------------------


def _session_cookie(response) -> str | None:
    for value in response.headers.getlist("Set-Cookie"):
        if value.startswith("dossier_session="):
            return value
    return None


def test_logging_in_starts_a_new_session(tmp_path):
    """GIVEN an attacker's anonymous session cookie planted in a victim's browser WHEN the victim logs in
    THEN the session after login shares nothing with the planted one but the language: new CSRF token,
    planted keys gone, and the attacker's copy of the old cookie is still anonymous."""
    _d, app = _home(tmp_path)
    attacker = app.test_client()
    planted_token = _csrf(attacker, "/auth/login?lang=en")
    with attacker.session_transaction() as s:
        s["planted"] = "by the attacker"
        old_cookie = dict(s)
    victim = app.test_client()
    with victim.session_transaction() as s:
        s.update(old_cookie)
    r = victim.post(
        "/auth/login", data={"username": "lily", "password": PASSWORD, "csrf_token": planted_token}
    )
    assert r.status_code == 302 and _session_cookie(r) is not None
    with victim.session_transaction() as s:
        assert s[SESSION_KEY] and s[UID_KEY] and s[STAMP_KEY] and "planted" not in s and s.get("lang") == "en"
        assert s.get("csrf_token") != planted_token
    assert _csrf(victim) != planted_token
    assert attacker.get("/").status_code == 302  # the old cookie logged nobody in


def _last_seen(d: Dossier, minutes_ago: float | None = None):
    """The only open session's last_seen_at; with ``minutes_ago``, first move it that far into the past."""
    with d.sessions() as session:
        row = session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).one()
        if minutes_ago is not None:
            row.last_seen_at = utcnow() - timedelta(minutes=minutes_ago)
            session.commit()
        return row.last_seen_at


def test_idle_sessions_are_logged_out_and_polls_do_not_keep_them_alive(tmp_path):
    """GIVEN DOSSIER_SESSION_IDLE_MINUTES=1 WHEN a minute passes without a person's request THEN the next
    page goes to login with a message, the session is ended on the server, and a logout event says why; a
    page's own GET /api poll does not count as activity."""
    d, app = _home(tmp_path, DOSSIER_SESSION_IDLE_MINUTES="1")
    client = app.test_client()
    assert _log_in(client, "lily").status_code == 302
    stale = _last_seen(d, 50 / 60)  # not idle yet (60 s), but due to be marked as seen again (every 15 s)
    assert client.get("/api/status").status_code in (200, 403)  # a poll: still logged in …
    assert _last_seen(d) == stale  # … but not touched
    assert client.get("/").status_code == 200  # a person's request touches it
    assert _last_seen(d) > stale
    _last_seen(d, 61 / 60)
    kept = client.get_cookie("dossier_session").value
    r = client.get("/?q=合同", follow_redirects=True)
    assert "/auth/login" in r.request.path
    assert "1 分钟没有操作，已自动退出" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302
    [event] = audit_events(d, "logout")
    assert event.username == "lily" and event.detail["reason"] == "idle"
    with d.sessions() as session:
        assert session.scalars(select(UserSession.end_reason)).one() == "idle"
    replay = app.test_client()
    replay.set_cookie("dossier_session", kept)
    assert replay.get("/").status_code == 302  # the idle session is over for every copy of the cookie


def test_a_changed_password_ends_open_sessions(tmp_path):
    """GIVEN lily is logged in WHEN an admin sets her a new password THEN her open session is over."""
    d, app = _home(tmp_path)
    client = app.test_client()
    assert _log_in(client, "lily").status_code == 302
    assert client.get("/").status_code == 200
    d.accounts.set_password("lily", "Ganz-Neu-Passw0rd")
    r = client.get("/", follow_redirects=True)
    assert "/auth/login" in r.request.path and "会话已结束" in r.get_data(as_text=True)


def _logged_in_cookie(app, username: str = "lily") -> tuple[object, str]:
    client = app.test_client()
    assert _log_in(client, username).status_code == 302
    return client, client.get_cookie("dossier_session").value


def _replay(app, cookie: str):
    """A fresh client that sends nothing but a kept copy of a session cookie."""
    thief = app.test_client()
    thief.set_cookie("dossier_session", cookie)
    return thief


def test_a_cookie_kept_from_before_logout_is_refused(tmp_path):
    """GIVEN a copy of lily's session cookie WHEN she logs out THEN the copy gets the login page and 401 from the
    API — also for POSTs — and her other session (another browser) goes on."""
    d, app = _home(tmp_path)
    client, cookie = _logged_in_cookie(app)
    laptop, _other = _logged_in_cookie(app)
    assert _replay(app, cookie).get("/").status_code == 200  # the copy works while the session is open
    assert client.post("/auth/logout", data={"csrf_token": _csrf(client)}).status_code == 302
    thief = _replay(app, cookie)
    assert thief.get("/").status_code == 302
    assert thief.get("/api/search?q=合同").status_code == 401
    assert thief.get("/export/jobs").status_code == 302
    assert laptop.get("/").status_code == 200
    [logout] = audit_events(d, "logout")
    assert logout.username == "lily" and logout.detail["reason"] == "user"


def test_logging_in_again_ends_the_session_the_cookie_held(tmp_path):
    """GIVEN lily's session WHEN the same browser logs in again (as her or as someone else) THEN the earlier session
    is ended on the server (reason relogin), so a copy of the earlier cookie is refused."""
    d, app = _home(tmp_path)
    client, first = _logged_in_cookie(app)
    assert _log_in(client, "vera").status_code == 302
    assert _replay(app, first).get("/").status_code == 302
    assert client.get("/").status_code == 200
    with d.sessions() as session:
        reasons = sorted(str(r) for r in session.scalars(select(UserSession.end_reason)))
    assert reasons == ["None", "relogin"]


def _restore_other_password(d: Dossier) -> None:
    """Give lily another password hash straight in the records, as a restored backup would."""
    from records import User, hash_password

    with d.sessions() as session:
        session.scalars(select(User).where(User.username == "lily")).one().password_hash = hash_password(
            "Alt-Passw0rt-9"
        )
        session.commit()


@pytest.mark.parametrize("change", ["role", "disable", "password", "restored"])
def test_a_role_change_disable_or_new_password_ends_every_session(tmp_path, change):
    """GIVEN lily logged in twice WHEN an admin changes her role, disables her or sets a new password (or her password
    hash changes behind the services' back) THEN both sessions are over at once, and copies of the cookies too."""
    d, app = _home(tmp_path)
    first, cookie = _logged_in_cookie(app)
    second, _ = _logged_in_cookie(app)
    {
        "role": lambda: d.accounts.set_role("lily", "viewer"),
        "disable": lambda: d.accounts.set_active("lily", False),
        "password": lambda: d.accounts.set_password("lily", "Ganz-Neu-Passw0rd"),
        "restored": lambda: _restore_other_password(d),
    }[change]()
    for client in (first, second, _replay(app, cookie)):
        assert client.get("/").status_code == 302
        assert client.get("/api/search?q=合同").status_code == 401
    if change != "disable":
        d.accounts.set_active("lily", True)  # enabling (or nothing) brings no session back
    assert _replay(app, cookie).get("/").status_code == 302


@pytest.fixture()
def live_home(tmp_path):
    """A fresh home's app served over HTTP on a free port: (dossier, base URL)."""
    d, app = _home(tmp_path)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield d, f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


def test_on_a_real_server_logout_ends_the_session_for_a_replayed_cookie(live_home):
    """The reproduction on a running server: keep the cookie, POST /auth/logout, replay the cookie: / goes to
    login and /api/search answers 401."""
    _d, base = live_home
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/auth/login", timeout=10).read().decode()
    form = {"username": "lily", "password": PASSWORD, "csrf_token": _csrf_from(page)}
    opener.open(f"{base}/auth/login", data=urllib.parse.urlencode(form).encode(), timeout=10)
    [cookie] = [c.value for c in jar if c.name == "dossier_session"]
    home = opener.open(f"{base}/", timeout=10)
    assert home.status == 200 and urllib.parse.urlsplit(home.url).path == "/"
    token = _csrf_from(home.read().decode())
    opener.open(
        f"{base}/auth/logout", data=urllib.parse.urlencode({"csrf_token": token}).encode(), timeout=10
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    bare = urllib.request.build_opener(NoRedirect)
    for path, status in (("/", 302), ("/api/search?q=%E5%90%88%E5%90%8C", 401)):
        request = urllib.request.Request(f"{base}{path}", headers={"Cookie": f"dossier_session={cookie}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            bare.open(request, timeout=10)
        assert refused.value.code == status, path


@pytest.mark.parametrize(
    ("env", "base_url", "headers", "secure"),
    [
        ({}, "http://localhost", {}, False),
        ({}, "https://localhost", {}, True),
        ({}, "http://localhost", {"X-Forwarded-Proto": "https"}, False),  # no trusted proxy: ignored
        ({"DOSSIER_PROXY_COUNT": "1"}, "http://localhost", {"X-Forwarded-Proto": "https"}, True),
        ({"DOSSIER_PUBLIC_URL": "https://dossier.example.com"}, "http://localhost", {}, True),
    ],
)
def test_the_session_cookie_is_secure_over_https(tmp_path, env, base_url, headers, secure):
    """HttpOnly and SameSite=Lax always; Secure when the request came over HTTPS (directly, or as trusted
    proxies say) or the public address is https."""
    _d, app = _home(tmp_path, **env)
    client = app.test_client()
    token = _csrf_from(client.get("/auth/login", base_url=base_url, headers=headers).get_data(as_text=True))
    r = client.post(
        "/auth/login",
        base_url=base_url,
        headers=headers,
        data={"username": "lily", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 302
    cookie = _session_cookie(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("; Secure" in cookie) is secure


# -- the login limits through the form --------------------------------------------------------


def test_a_locked_account_answers_like_a_wrong_password(tmp_path):
    """GIVEN DOSSIER_LOGIN_MAX_FAILURES=2 WHEN lily's password is mistyped twice THEN even the right one gets
    the same 401 用户名或密码错误 (nothing tells the account is locked), until an admin enables her again."""
    d, app = _home(tmp_path, DOSSIER_LOGIN_MAX_FAILURES="2")
    client = app.test_client()
    for _ in range(2):
        r = _log_in(client, "lily", "wrong-password")
        assert r.status_code == 401
    r = _log_in(client, "lily")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    assert _log_in(client, "vera").status_code == 302  # other accounts are not affected
    d.accounts.set_active("lily", True)
    assert _log_in(app.test_client(), "lily").status_code == 302
    assert [e.detail["reason"] for e in audit_events(d, "login_failed")] == [
        "bad_password",
        "bad_password",
        "locked",
    ]
    assert all(e.detail["ip"] == "127.0.0.1" for e in audit_events(d, "login_failed"))


def test_an_address_that_fails_too_often_gets_429_and_cannot_spoof_its_way_out(tmp_path):
    """GIVEN a per-address limit of 3 WHEN one address fails 3 times with different names THEN it gets 429 with
    Retry-After and a Chinese message, also for a right password and with a made-up X-Forwarded-For; another
    address still logs in."""
    _d, app = _home(tmp_path, DOSSIER_LOGIN_IP_MAX_FAILURES="3")
    client = app.test_client()
    for name in ("lily", "nobody", "vera"):
        assert _log_in(client, name, "wrong-password", REMOTE_ADDR="198.51.100.4").status_code == 401
    r = _log_in(client, "lily", REMOTE_ADDR="198.51.100.4")
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 15 * 60 + 1
    assert "此地址登录失败次数过多" in r.get_data(as_text=True)
    token = _csrf(client, "/auth/login")
    spoofed = client.post(
        "/auth/login",
        data={"username": "lily", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert spoofed.status_code == 429
    assert _log_in(app.test_client(), "lily", REMOTE_ADDR="198.51.100.5").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path):
    """GIVEN DOSSIER_PROXY_COUNT=1 WHEN failures arrive through the proxy for one client THEN that client is
    limited and another client behind the same proxy is not."""
    d, app = _home(tmp_path, DOSSIER_LOGIN_IP_MAX_FAILURES="2", DOSSIER_PROXY_COUNT="1")
    client = app.test_client()
    via = {"REMOTE_ADDR": "10.0.0.1"}

    def attempt(password: str, forwarded_for: str):
        token = _csrf(client, "/auth/login")
        return client.post(
            "/auth/login",
            data={"username": "lily", "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base=via,
        )

    assert attempt("wrong-password", "203.0.113.1").status_code == 401
    assert attempt("wrong-password", "203.0.113.1").status_code == 401
    assert attempt(PASSWORD, "203.0.113.1").status_code == 429
    assert attempt(PASSWORD, "203.0.113.2").status_code == 302
    assert {e.detail["ip"] for e in audit_events(d, "login_failed")} == {"203.0.113.1"}


# -- API tokens ---------------------------------------------------------------------------------


def test_api_tokens_act_as_their_user_on_the_api_only(hostile):
    """GIVEN a token of the viewer WHEN it calls /api THEN it sees what the viewer may see (no cookie, no
    CSRF token needed, even for POST); HTML pages ignore it; a revoked token, or a disabled user's, is 401
    JSON with WWW-Authenticate."""
    d, app = hostile["dossier"], hostile["app"]
    token_id, token = d.accounts.create_token("vera", "测试")
    auth = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    r = client.get("/api/search?q=报价", headers=auth)
    assert r.status_code == 200 and _session_cookie(r) is None
    viewer_total = d.search(SearchRequest("报价"), d.accounts.principal_for("vera"))["total"]
    admin_total = d.search(SearchRequest("报价"), Principal.system())["total"]
    assert r.get_json()["total"] == viewer_total < admin_total
    hidden = next(i for i in hostile["ids"] if d.show(i, Principal.system())["confidentiality"] != "public")
    assert client.get(f"/api/documents/{hidden}", headers=auth).status_code == 404
    # A POST with the token needs no CSRF token: it gets past the check (and is refused for its own reasons).
    posted = client.post("/api/exports", headers=auth, json={"q": "报价", "format": "csv"})
    assert posted.status_code != 400 or "表单已过期" not in posted.get_json()["error"]
    assert client.get("/", headers=auth).status_code == 302  # pages need a session
    for bad in ("dsk_not-a-real-token", token + "x"):
        refused = client.get("/api/search?q=报价", headers={"Authorization": f"Bearer {bad}"})
        assert refused.status_code == 401 and refused.is_json and "令牌无效" in refused.get_json()["error"]
        assert refused.headers["WWW-Authenticate"] == 'Bearer realm="dossier" error="invalid_token"'
    assert client.get("/api/search?q=x").headers["WWW-Authenticate"] == 'Bearer realm="dossier"'
    d.accounts.revoke_token(token_id)
    assert client.get("/api/search?q=报价", headers=auth).status_code == 401


def test_disabling_a_user_revokes_their_tokens_for_good(hostile):
    """GIVEN two tokens of the viewer WHEN she is disabled and enabled again THEN both stay refused (401, revoked
    in the token list); only a new token works."""
    d, client = hostile["dossier"], hostile["app"].test_client()
    tokens = [d.accounts.create_token("vera", name)[1] for name in ("脚本一", "脚本二")]
    for token in tokens:
        assert (
            client.get("/api/search?q=报价", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )
    d.accounts.set_active("vera", False)
    d.accounts.set_active("vera", True)
    for token in tokens:
        refused = client.get("/api/search?q=报价", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and "已撤销" in refused.get_json()["error"]
    states = {t["name"]: t["state"] for t in d.accounts.tokens("vera")}
    assert states["脚本一"] == states["脚本二"] == "revoked"
    _id, fresh = d.accounts.create_token("vera", "新脚本")
    assert client.get("/api/search?q=报价", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_an_expired_token_answers_401_saying_it_expired(hostile):
    """GIVEN a token that expires WHEN its time has come THEN /api answers 401 JSON "令牌已于 … 过期 / … expired",
    with WWW-Authenticate; before that it works."""
    d, client = hostile["dossier"], hostile["app"].test_client()
    token_id, token = d.accounts.create_token("vera", "限时", expires_at=utcnow() + timedelta(days=1))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/search?q=报价", headers=auth).status_code == 200
    with d.sessions() as session:  # its day has passed (moved rather than waited for)
        session.get(ApiToken, token_id).expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    refused = client.get("/api/search?q=报价", headers=auth)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].endswith(
        'error="invalid_token"'
    )
    error = refused.get_json()["error"]
    assert "令牌已于" in error and "过期" in error  # the default language
    english = client.get("/api/search?q=报价&lang=en", headers=auth)
    assert english.status_code == 401 and "expired" in english.get_json()["error"]


# -- in a real browser, under the CSP ------------------------------------------------------------


@pytest.fixture()
def hostile_server(hostile):
    """The hostile home's app served over HTTP on a free port."""
    srv = make_server("127.0.0.1", 0, hostile["app"], threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.mark.browser
@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian chromium + chromium-driver"
)
def test_pages_work_under_the_csp_and_hostile_content_does_not_run(hostile, hostile_server, browser):  # noqa: F811
    """GIVEN the hostile home served over HTTP WHEN Chromium logs in, searches, uses a filter (our own script,
    from 'self') and opens every hostile document THEN nothing was refused by the CSP, no payload ran, and no
    request left for the attackers' address."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = hostile_server
    browser.get(base + "/auth/login")
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)
    browser.get(base + "/?q=报价")
    before = browser.current_url
    boxes = browser.find_elements(By.CSS_SELECTOR, "form[data-autosubmit] input[type=checkbox]")
    assert boxes, "the search page has filter checkboxes"
    boxes[0].click()  # dossier.js re-runs the search: scripts from 'self' run under the CSP
    WebDriverWait(browser, 15).until(lambda b: b.current_url != before)
    for doc_id in hostile["ids"]:
        browser.get(f"{base}/documents/{doc_id}?q=XSSCANARY")
        assert browser.execute_script("return document.querySelectorAll('script:not([src])').length") == 0
    browser.get(base + "/customers?status=suggested")
    logs = browser.get_log("browser")
    assert [e["message"] for e in logs if "Content Security Policy" in e["message"]] == []
    assert [e["message"] for e in logs if "XSSCANARY" in e["message"] or "127.0.0.1:9/" in e["message"]] == []


# -- the Host header ------------------------------------------------------------------------------


def test_with_allowed_hosts_any_other_host_is_refused_with_400(tmp_path):
    """GIVEN DOSSIER_ALLOWED_HOSTS WHEN a request names another Host — a page, the login form, the API, a static
    file — THEN 400 with a plain message (JSON under /api) and the security headers, before anything runs; the
    allowed names, their subdomains (.suffix), the public address's host and localhost are served."""
    _d, app = _home(
        tmp_path,
        DOSSIER_ALLOWED_HOSTS="dossier.corp, .example.cn",
        DOSSIER_PUBLIC_URL="https://dossier.public.cn",
    )
    client = app.test_client()
    for path in (
        "/",
        "/auth/login",
        "/api/search?q=合同",
        "/api/export?format=csv",
        "/static/dossier.css",
        "/healthz",
    ):
        r = client.get(path, base_url="http://evil.example")
        assert r.status_code == 400, path
        assert "DOSSIER_ALLOWED_HOSTS" in (
            r.get_json()["error"] if r.is_json else r.get_data(as_text=True)
        ), path
        assert r.headers["X-Frame-Options"] == "DENY"
    assert client.get("/api/search", base_url="http://evil.example").is_json
    posted = client.post(
        "/auth/login", base_url="http://evil.example", data={"username": "lily", "password": PASSWORD}
    )
    assert posted.status_code == 400
    for host in (
        "dossier.corp",
        "dossier.corp:8443",
        "files.example.cn",
        "dossier.public.cn",
        "localhost",
        "127.0.0.1:8000",
    ):
        assert client.get("/auth/login", base_url=f"http://{host}").status_code == 200, host
    assert client.get("/auth/login", base_url="http://evil.example.cn.evil.example").status_code == 400


@pytest.mark.parametrize(("proxies", "status"), [("0", 200), ("1", 400)])
def test_a_forwarded_host_counts_only_through_a_trusted_proxy_and_is_checked_too(tmp_path, proxies, status):
    """X-Forwarded-Host is ignored without a trusted proxy (the Host is checked); through DOSSIER_PROXY_COUNT=1 it
    is the host, and an unknown one is refused like a Host header."""
    _d, app = _home(tmp_path, DOSSIER_ALLOWED_HOSTS="dossier.corp", DOSSIER_PROXY_COUNT=proxies)
    r = app.test_client().get(
        "/auth/login", base_url="http://dossier.corp", headers={"X-Forwarded-Host": "evil.example"}
    )
    assert r.status_code == status


@pytest.mark.parametrize("entry", ["*", "https://dossier.corp", "dossier.corp/path", "a b"])
def test_an_allowed_hosts_entry_that_is_not_a_host_name_stops_the_app(tmp_path, entry):
    """A URL, a path or a wildcard in DOSSIER_ALLOWED_HOSTS is a configuration error that says which entry."""
    from foundation.errors import ConfigError

    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path), "DOSSIER_ALLOWED_HOSTS": f"ok.example, {entry}"},
        dotenv=tmp_path / "no.env",
    )
    with pytest.raises(ConfigError, match="DOSSIER_ALLOWED_HOSTS"):
        create_app(settings)


def _raw_get(base: str, path: str, host: str, cookie: str | None = None) -> tuple[int, bytes]:
    """GET ``path`` from a running server with a Host header of our choosing (as curl -H 'Host: …' would)."""
    import http.client

    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Host": host, **({"Cookie": f"dossier_session={cookie}"} if cookie else {})}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def _raw_login(base: str, host: str) -> str:
    """Log lily in on a running server under Host ``host``; returns the session cookie's value."""
    import http.client

    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/auth/login", headers={"Host": host})
    response = conn.getresponse()
    page, anonymous = response.read().decode(), response.getheader("Set-Cookie").split(";")[0]
    form = urllib.parse.urlencode({"username": "lily", "password": PASSWORD, "csrf_token": _csrf_from(page)})
    conn.request(
        "POST",
        "/auth/login",
        body=form,
        headers={"Host": host, "Cookie": anonymous, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 302
    cookie = response.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
    conn.close()
    return cookie


def test_on_a_real_server_a_host_header_never_reaches_export_links(live_home, tmp_path):
    """The reproduction: a running server, Host: evil.example, GET /api/export?format=csv — the links point at the
    address Dossier listens on, not at evil.example."""
    d, base = live_home
    note = tmp_path / "拜访记录_恒达.txt"
    note.write_text("拜访记录：恒达贸易，讨论报价与合同续签。", encoding="utf-8")
    d.ingest_paths([note], ocr=False)
    cookie = _raw_login(base, "evil.example")
    status, body = _raw_get(base, "/api/export?format=csv", "evil.example", cookie)
    assert status == 200 and b"/documents/" in body
    assert b"evil.example" not in body and b"http://127.0.0.1:8000/documents/" in body

"""Login, logout, login_required, CSRF and the language switch."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select

import records
from dossier.app.services import Dossier
from foundation.config import load_settings
from webui import create_app


@pytest.mark.parametrize("path", ["/", "/?q=合同", "/documents/1", "/documents/1/download"])
def test_pages_redirect_anonymous_visitors_to_login(client, path):
    """Every page except login needs a session; the login link remembers where the visitor was going."""
    r = client.get(path)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("path", ["/api/search?q=合同", "/api/documents/1", "/api/status"])
def test_api_answers_401_json_to_anonymous_callers(client, path):
    """The API does not redirect: it answers 401 with a JSON error."""
    r = client.get(path)
    assert r.status_code == 401
    assert r.is_json and r.get_json()["error"]


def test_login_form_is_in_chinese(client):
    """The login page has the form, the CSRF field and Chinese labels."""
    html = client.get("/auth/login").get_data(as_text=True)
    assert "用户名" in html and "密码" in html
    assert 'name="csrf_token"' in html
    assert '<html lang="zh-CN">' in html


def test_wrong_password_shows_a_message(client, login):
    """A wrong password re-renders the form with 用户名或密码错误 and does not log in."""
    r = login(client, password="wrong")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_message(client, login):
    """An unknown user name is indistinguishable from a wrong password."""
    r = login(client, username="nobody", password="whatever")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)


def test_login_then_home_shows_the_user(client, login):
    """After login the home page shows the search box and who is signed in."""
    r = login(client)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert 'name="q"' in html and "admin" in html and "退出" in html


def test_session_cookie_is_httponly_and_lax(client, login):
    """The session cookie set at login carries HttpOnly and SameSite=Lax."""
    r = login(client)
    cookie = next(v for v in r.headers.getlist("Set-Cookie") if v.startswith("dossier_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_follows_next_but_only_on_this_site(app, login):
    """``next`` is followed for local paths; absolute and protocol-relative URLs go home instead."""
    for target, expected in [
        ("/?q=合同", "/?q=合同"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        r = login(app.test_client(), next=target)
        assert r.status_code == 302
        assert unquote(r.headers["Location"]) == expected, target


def test_post_without_csrf_token_is_rejected(client, login):
    """A form POST without (or with a wrong) CSRF token gets 400 and changes nothing."""
    r = client.post("/auth/login", data={"username": "admin", "password": "x"})
    assert r.status_code == 400
    assert "表单已过期" in r.get_data(as_text=True)

    login(client)
    r = client.post("/auth/logout")
    assert r.status_code == 400
    r = client.post("/auth/logout", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_logout_with_token_ends_the_session(client, login, csrf_from):
    """The logout button (a POST form with the token) logs out."""
    login(client)
    token = csrf_from(client.get("/").get_data(as_text=True))
    r = client.post("/auth/logout", data={"csrf_token": token})
    assert r.status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/auth/logout").status_code == 405  # GET cannot log anyone out


def test_language_switch_is_remembered(client, login):
    """``?lang=en`` switches to English for this and later pages; ``?lang=zh`` switches back."""
    login(client)
    html = client.get("/").get_data(as_text=True)
    assert "Dossier 客户档案检索" in html and "搜索" in html
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Dossier customer files" in html and ">Search<" in html and '<html lang="en">' in html
    html = client.get("/").get_data(as_text=True)
    assert "Dossier customer files" in html and "Log out" in html
    html = client.get("/?lang=zh").get_data(as_text=True)
    assert "Dossier 客户档案检索" in html


def test_language_survives_login(client, login):
    """A language chosen on the login page stays after logging in."""
    client.get("/auth/login?lang=en")
    login(client)
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_language_switch_link_keeps_the_query(client, login):
    """The header's language link keeps the current search."""
    login(client)
    html = client.get("/?q=%E5%90%88%E5%90%8C&sort=date_desc").get_data(as_text=True)
    assert "?q=%E5%90%88%E5%90%8C&amp;sort=date_desc&amp;lang=en" in html


def test_deactivated_user_is_logged_out(tmp_path, login):
    """GIVEN a logged-in user WHEN the account is deactivated THEN the next request goes to login with a message."""
    settings = load_settings(environ={"DOSSIER_HOME": str(tmp_path)}, dotenv=Path("/nonexistent"))
    Dossier.open(settings, require_init=False).init(admin_password="admin-pw-123")
    d = Dossier.open(settings)
    with d.sessions() as session:
        session.add(
            records.User(username="vera", password_hash=records.hash_password("viewer-pw-1"), role="viewer")
        )
        session.commit()
    client = create_app(settings, test_config={"TESTING": True}).test_client()
    assert login(client, username="vera", password="viewer-pw-1").status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/upload").status_code == 403  # viewers only read
    assert client.get("/api/status").status_code == 403
    with d.sessions() as session:
        session.scalars(select(records.User).where(records.User.username == "vera")).one().active = False
        session.commit()
    r = client.get("/", follow_redirects=True)
    assert "/auth/login" in r.request.path
    assert "此账户已不可用" in r.get_data(as_text=True)

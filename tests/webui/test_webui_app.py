"""The app factory: settings, the secret key, security headers and the one error handler."""

from __future__ import annotations

import stat
from pathlib import Path

from foundation.config import load_settings
from webui import create_app


def _settings(home: Path, **extra: str):
    return load_settings(environ={"DOSSIER_HOME": str(home), **extra}, dotenv=Path("/nonexistent"))


def test_secret_key_is_generated_once_with_mode_0600(tmp_path):
    """Without DOSSIER_SECRET_KEY the key is generated into DOSSIER_HOME/secret_key (0600) and reused."""
    app1 = create_app(_settings(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app1.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app1.config["SECRET_KEY"]) >= 32
    assert create_app(_settings(tmp_path)).config["SECRET_KEY"] == app1.config["SECRET_KEY"]


def test_secret_key_setting_wins_and_test_config_overrides(tmp_path):
    """DOSSIER_SECRET_KEY is used as is; test_config is applied last."""
    app = create_app(_settings(tmp_path, DOSSIER_SECRET_KEY="from-settings"))
    assert app.config["SECRET_KEY"] == "from-settings"
    assert not (tmp_path / "secret_key").exists()
    app = create_app(_settings(tmp_path, DOSSIER_SECRET_KEY="from-settings"), test_config={"SECRET_KEY": "t"})
    assert app.config["SECRET_KEY"] == "t"


def test_session_cookie_flags(app):
    """The session cookie is HttpOnly and SameSite=Lax."""
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_security_headers_on_every_response(client, admin):
    """nosniff, DENY framing and same-origin referrers on pages, static files, redirects and errors."""
    anonymous = client.application.test_client()
    responses = [
        anonymous.get("/auth/login"),
        anonymous.get("/"),  # redirect
        anonymous.get("/static/dossier.css"),
        anonymous.get("/api/search?q=x"),  # 401 JSON
        admin.get("/no-such-page"),
        admin.get("/"),
    ]
    for r in responses:
        assert r.headers["X-Content-Type-Options"] == "nosniff", r.request.path
        assert r.headers["X-Frame-Options"] == "DENY", r.request.path
        assert r.headers["Referrer-Policy"] == "same-origin", r.request.path


def test_not_found_is_a_friendly_chinese_page(admin):
    """Unknown pages render the layout with a Chinese message, not werkzeug's English text."""
    r = admin.get("/no-such-page")
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert "找不到这个页面或文件" in html
    assert "Dossier 客户档案检索" in html
    assert "The requested URL was not found" not in html


def test_errors_under_api_are_json(admin):
    """Under /api every error is {"error": message} with the right status, including unknown routes."""
    r = admin.get("/api/no-such-endpoint")
    assert r.status_code == 404
    assert r.is_json and set(r.get_json()) == {"error"}
    r = admin.post("/api/search", headers={"X-CSRF-Token": "nope"})
    assert r.status_code in (400, 405) and r.is_json


def test_uninitialised_home_explains_how_to_initialise(tmp_path):
    """An app over a data home nobody initialised says to run `dossier init` instead of crashing."""
    app = create_app(_settings(tmp_path / "empty"), test_config={"TESTING": True})
    c = app.test_client()
    r = c.get("/auth/login")
    assert r.status_code == 200  # the login page itself needs no database
    token = r.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post("/auth/login", data={"username": "admin", "password": "x", "csrf_token": token})
    assert r.status_code == 500
    assert "dossier init" in r.get_data(as_text=True)

"""The settings table: every setting documented, values parsed with clear errors."""

from __future__ import annotations

import pytest

from foundation.config import SETTINGS, load_settings
from foundation.errors import ConfigError
from tests.conftest import ROOT


def test_every_setting_is_documented_in_the_readme():
    """Each DOSSIER_* setting of the table appears in the manual's settings table (docs/reference/settings.md)."""
    readme = (ROOT / "docs" / "reference" / "settings.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert missing == []


def test_environment_wins_over_dotenv_which_wins_over_defaults(tmp_path):
    """Precedence is environment > .env > default."""
    env_file = tmp_path / ".env"
    env_file.write_text("DOSSIER_PORT=9001\nDOSSIER_HOST=0.0.0.0\nUNRELATED=1\n")
    settings = load_settings(environ={"DOSSIER_PORT": "9002"}, dotenv=env_file)
    assert settings.get("DOSSIER_PORT") == "9002"
    assert settings.get("DOSSIER_HOST") == "0.0.0.0"
    assert settings.get("DOSSIER_WORKERS") == "0"


def test_database_defaults_to_sqlite_in_the_home(tmp_path):
    """Without DOSSIER_DATABASE_URL the records live in DOSSIER_HOME/dossier.db."""
    settings = load_settings(environ={"DOSSIER_HOME": str(tmp_path)}, dotenv=tmp_path / "none")
    assert settings.database_url == f"sqlite:///{tmp_path / 'dossier.db'}"


def test_bad_integer_setting_says_which_and_why(tmp_path):
    """A non-integer limit fails with the setting's name in the message."""
    settings = load_settings(environ={"DOSSIER_MAX_FILE_MB": "lots"}, dotenv=tmp_path / "none")
    with pytest.raises(ConfigError, match="DOSSIER_MAX_FILE_MB"):
        settings.get_int("DOSSIER_MAX_FILE_MB")


def test_split_setting_parses_kinds_and_refuses_nonsense(tmp_path):
    from foundation.config import load_settings
    from foundation.errors import ConfigError

    def kinds(value: str) -> tuple[str, ...]:
        return load_settings(environ={"DOSSIER_SPLIT": value}, dotenv=tmp_path / "none").split_kinds

    assert kinds("qr,blank") == ("qr", "blank") and kinds("QR") == ("qr",) and kinds("off") == ()
    with pytest.raises(ConfigError, match="DOSSIER_SPLIT"):
        kinds("qr,page")


def test_allowed_hosts_and_the_public_url_are_parsed_with_clear_errors(tmp_path):
    """DOSSIER_ALLOWED_HOSTS: names (ports dropped, lower-cased), ``.suffix`` kept, plus the public address's host and
    the loopback names; empty = None (any host). A public URL without http(s):// is refused, saying how it should be."""

    def settings(**env: str):
        return load_settings(environ=env, dotenv=tmp_path / "none")

    assert settings().trusted_hosts is None
    assert settings(
        DOSSIER_ALLOWED_HOSTS=" Dossier.Corp:8443 , .example.cn,10.0.0.5 ",
        DOSSIER_PUBLIC_URL="https://files.example.org/dossier/",
    ).trusted_hosts == [
        "dossier.corp",
        ".example.cn",
        "10.0.0.5",
        "files.example.org",
        "localhost",
        "127.0.0.1",
    ]
    assert (
        settings(DOSSIER_PUBLIC_URL="https://files.example.org/dossier/").public_url
        == "https://files.example.org/dossier"
    )
    with pytest.raises(ConfigError, match="http\\(s\\)://"):
        _ = settings(DOSSIER_PUBLIC_URL="files.example.org").public_url
    with pytest.raises(ConfigError, match="'\\*'"):
        _ = settings(DOSSIER_ALLOWED_HOSTS="*").trusted_hosts

"""API tokens for tests that call /api as a script would (``Authorization: Bearer``)."""

from __future__ import annotations

from pathlib import Path


def token_for(home: Path, username: str, role: str | None = None) -> str:
    """A new API token of ``username`` (made a user with ``role`` first when given), through the CLI."""
    from click.testing import CliRunner

    from dossier.cli import cli

    runner = CliRunner()
    if role:
        made = runner.invoke(
            cli,
            ["--home", str(home), "users", "add", username, "--role", role, "--password-stdin"],
            input="Another-long-Passw0rd!\n",
        )
        assert made.exit_code == 0, made.output
    out = runner.invoke(cli, ["--home", str(home), "users", "token", "create", username])
    assert out.exit_code == 0, out.output
    return next(w for w in out.output.split() if w.startswith("dsk_"))

"""``dossier users …``: accounts, roles, display names, renames, lock-outs and API tokens (账户与角色).

Passwords never travel on the command line: they are prompted for (twice, hidden), or read
from standard input with ``--password-stdin`` (the first line) for scripts.  Every change is
an audit event by ``system`` (the operator at the console).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click

from dossier.cli._common import _echo_json, _open, label
from foundation.messages import msg, translate

#: ``records.ROLES``, spelt out so that ``dossier --help`` does not import the records (a test keeps them equal).
ROLES = ("admin", "manager", "finance", "sales", "viewer")


def _read_password(password_stdin: bool) -> str:
    """The new password: the first line of stdin with ``--password-stdin``, else prompted twice."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(str(msg("cli.users.new_password")), hide_input=True, confirmation_prompt=True))


_password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)


@click.group()
def users() -> None:
    """Users and roles (admin, manager, finance, sales, viewer), lock-outs and API tokens."""


def _echo_linked(linked: list[str]) -> None:
    """Say which customers an account now owns (their registry owner name is its login or display name)."""
    if linked:
        names = "、".join(linked[:10]) + (
            f" {translate('cli.users.more', 'zh', n=len(linked))}" if len(linked) > 10 else ""
        )
        click.echo(f"  {msg('cli.users.owns', n=len(linked))}: {names}")


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
    help="What the user may do (README: Accounts and roles).",
)
@click.option(
    "--display-name",
    default=None,
    help="The person's name as the customer registry writes it (负责人, e.g. 张伟).",
)
@click.option("--email", default=None, help="Where reminder e-mails go (the daily digest, same-day notices).")
@_password_stdin
@click.pass_context
def users_add(
    ctx: click.Context,
    username: str,
    role: str,
    display_name: str | None,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Create USERNAME with a role; the password is prompted for.

    It must be at least 8 characters and hard to guess: common passwords, keyboard rows and
    ones built on the user's names are refused, with the reason.  Customers whose registry
    owner (负责人) is USERNAME or the display name become the user's.
    """
    from dossier.app.notify import check_email

    address = check_email(email)  # a bad address is refused before anything is written
    d = _open(ctx.find_root())
    result = d.accounts.add_user(username, role, _read_password(password_stdin), display_name=display_name)
    if address:
        d.notifications.set_email(username.strip(), address)
    click.echo(str(msg("cli.users.added", name=username.strip(), role=role)))
    _echo_linked(result["linked"])


@users.command("set-email")
@click.argument("username")
@click.argument("email")
@click.pass_context
def users_set_email(ctx: click.Context, username: str, email: str) -> None:
    """Give USERNAME the e-mail address reminder mails go to ("" removes it: in-app notifications only)."""
    address = _open(ctx.find_root()).notifications.set_email(username, email)
    if address:
        click.echo(str(msg("cli.users.email_set", name=username, email=address)))
    else:
        click.echo(str(msg("cli.users.email_removed", name=username)))


@users.command("set-display-name")
@click.argument("username")
@click.argument("display_name")
@click.pass_context
def users_set_display_name(ctx: click.Context, username: str, display_name: str) -> None:
    """Give USERNAME the DISPLAY_NAME the customer registry uses for them ("" removes it).

    Customers whose owner (负责人) is that name become theirs; customers already theirs stay theirs.
    """
    result = _open(ctx.find_root()).accounts.set_display_name(username, display_name)
    click.echo(str(msg("cli.users.display_name_set", name=username)))
    _echo_linked(result["linked"])


@users.command("rename")
@click.argument("username")
@click.argument("new_name")
@click.pass_context
def users_rename(ctx: click.Context, username: str, new_name: str) -> None:
    """Change the login USERNAME to NEW_NAME everywhere it is stored; customers, tokens and role stay.

    Uploads, intake batches and exports follow the new name; audit events keep the name they
    were written with.  The user's open web sessions end.  The admin account keeps its name.
    """
    result = _open(ctx.find_root()).accounts.rename_user(username, new_name)
    click.echo(str(msg("cli.users.renamed", name=username, new=new_name.strip())))
    _echo_linked(result["linked"])


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per user.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Every user: role, active or disabled, last login, locked until (while locked); times are UTC."""
    rows = _open(ctx.find_root()).accounts.users()
    if as_json:
        for row in rows:
            _echo_json(row)
        return
    for user in rows:
        state = label("cli.users.active" if user["active"] else "cli.users.inactive")
        last = (user["last_login_at"] or "-").replace("T", " ")
        shown = f" ({user['display_name']})" if user["display_name"] else ""
        line = f"{user['username'] + shown:<20} {user['role']:<8} {state:<12} {label('cli.users.last_login')} {last:<19}"
        if user.get("email"):
            line += f"  {user['email']}"
        if user["locked_until"]:
            line += f"  {label('cli.users.locked_until')} {user['locked_until'].replace('T', ' ')}"
        click.echo(line)


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Disable USERNAME: logins and open web sessions stop at once, and every API token is revoked for good."""
    _open(ctx.find_root()).accounts.set_active(username, False)
    click.echo(str(msg("cli.users.disabled", name=username)))


@users.command("enable")
@click.argument("username")
@click.pass_context
def users_enable(ctx: click.Context, username: str) -> None:
    """Enable USERNAME again (this also lifts a lock-out); tokens revoked by the disable stay revoked."""
    _open(ctx.find_root()).accounts.set_active(username, True)
    click.echo(str(msg("cli.users.enabled", name=username)))


@users.command("set-password")
@click.argument("username")
@_password_stdin
@click.pass_context
def users_set_password(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Give USERNAME a new password (e.g. when the admin password printed by init is lost).

    The password policy of ``users add`` applies.  It also lifts a lock-out and ends the
    user's open web sessions.
    """
    d = _open(ctx.find_root())
    d.accounts.set_password(username, _read_password(password_stdin))
    click.echo(str(msg("cli.users.password_set", name=username)))


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_set_role(ctx: click.Context, username: str, role: str) -> None:
    """Give USERNAME another ROLE: their web sessions end (they log in again); tokens act with the new role."""
    _open(ctx.find_root()).accounts.set_role(username, role)
    click.echo(str(msg("cli.users.role_set", name=username, role=role)))


@users.command("logout")
@click.argument("username")
@click.pass_context
def users_logout(ctx: click.Context, username: str) -> None:
    """End every open web session of USERNAME at once (e.g. a lost laptop); the password stays."""
    ended = _open(ctx.find_root()).accounts.end_sessions(username)
    click.echo(str(msg("cli.users.sessions_ended", name=username, n=ended)))


@users.group("token")
def token() -> None:
    """Personal API tokens: ``Authorization: Bearer <token>`` on /api/… acts as the token's user."""


#: Longest lifetime ``--expires-days`` / ``--expires`` may give a token (ten years).
MAX_TOKEN_DAYS = 3650


def _token_expiry(days: int | None, until: datetime | None) -> datetime | None:
    """When a new token expires (UTC, naive as the records keep times): in ``days`` days, or at the end of the
    day ``until`` (UTC); None = until revoked."""
    if days is not None and until is not None:
        raise click.UsageError(str(msg("cli.token.expiry_both")))
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if days is not None:
        return now + timedelta(days=days)
    if until is None:
        return None
    end = until.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if end <= now:
        raise click.BadParameter(str(msg("cli.token.date_passed")), param_hint="--expires")
    if end > now + timedelta(days=MAX_TOKEN_DAYS + 1):
        raise click.BadParameter(str(msg("cli.token.max_days", n=MAX_TOKEN_DAYS)), param_hint="--expires")
    return end


@token.command("create")
@click.argument("username")
@click.option("--name", default="", help="A label, e.g. what script uses the token.")
@click.option(
    "--expires-days",
    type=click.IntRange(1, MAX_TOKEN_DAYS),
    default=None,
    help="The token stops working this many days from now.",
)
@click.option(
    "--expires",
    "expires_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The token works through this day (YYYY-MM-DD, UTC) and stops at its end.",
)
@click.pass_context
def token_create(
    ctx: click.Context, username: str, name: str, expires_days: int | None, expires_on: datetime | None
) -> None:
    """Create a token for USERNAME and print it once (only its sha256 is kept).

    Without --expires-days or --expires it works until revoked (or its user is disabled).
    """
    expires_at = _token_expiry(expires_days, expires_on)
    token_id, secret = _open(ctx.find_root()).accounts.create_token(username, name, expires_at=expires_at)
    click.echo(secret)
    until = f"，{msg('cli.token.expires_at', at=f'{expires_at:%Y-%m-%d %H:%M}')}" if expires_at else ""
    click.echo(f"{label('cli.token.id')} {token_id}{until}。{msg('cli.token.shown_once')}", err=True)


_STATES = {
    "active": "cli.token.state_active",
    "expired": "cli.token.state_expired",
    "revoked": "cli.token.state_revoked",
}


@token.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per token.")
@click.pass_context
def token_list(ctx: click.Context, username: str, as_json: bool) -> None:
    """USERNAME's tokens: id, name, created, last used, expiry, state (active, expired, revoked); never the token."""
    rows = _open(ctx.find_root()).accounts.tokens(username)
    for row in rows:
        if as_json:
            _echo_json(row)
            continue
        state = label(_STATES[row["state"]])
        if row["state"] == "revoked":
            state += f" {row['revoked_at']}"
        click.echo(
            f"{row['id']:<6} {row['name'] or '-':<20} {label('cli.token.created')} {row['created_at']}"
            f"  {label('cli.token.last_used')} {row['last_used_at'] or '-'}"
            f"  {label('cli.token.expires')} {row['expires_at'] or '-'}  {state}"
        )


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke token TOKEN_ID (see ``token list``): it is refused from the next request on."""
    username = _open(ctx.find_root()).accounts.revoke_token(token_id)
    click.echo(str(msg("cli.token.revoked", name=username, id=token_id)))

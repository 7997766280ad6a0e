"""The accounts of a data home (``Dossier.accounts``): users, roles, passwords, logins, sessions, API tokens.

- **Logins** (:meth:`AccountService.authenticate`): every failure looks the same to the caller
  (``None``) and costs one argon2 verification whether the user exists or not.  A user's
  ``DOSSIER_LOGIN_MAX_FAILURES`` wrong passwords in a row lock the account for
  ``DOSSIER_LOGIN_LOCK_MINUTES`` (a correct password is refused too until then);
  ``DOSSIER_LOGIN_IP_MAX_FAILURES`` failures from one client address within
  ``DOSSIER_LOGIN_IP_WINDOW_MINUTES`` — whatever user names were tried — make that address
  wait (:class:`LoginThrottled`).  Both counts live in the records, so every web process
  (gunicorn, several machines) sees the same ones.  Each success writes a ``login`` audit
  event, each failure a ``login_failed`` one with the name tried, the address and the reason
  (``bad_password``, ``locked``, ``disabled``, ``unknown_user``).
- **Sessions** (:meth:`AccountService.start_session`, :meth:`AccountService.principal_for_session`):
  web sessions live in ``user_sessions``; the cookie carries a random key whose sha256 is the
  row's id.  A session counts while its row exists, has not ended, belongs to the user the
  cookie names, its user is active, its password is the one the session began with (a stamp
  in the cookie) and it was used within ``DOSSIER_SESSION_IDLE_MINUTES``.
  Logging out ends it (``end_reason`` ``user``), so a replayed cookie is refused; a new
  password, a new role or disabling the user end all of the user's sessions at once.
- **API tokens**: ``dsk_`` + 43 URL-safe characters (256 random bits); only the sha256 is
  stored; a token works while it is not revoked, not past its ``expires_at`` and its user is
  active.  Disabling a user revokes every token of theirs for good: enabling them again
  brings none back.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

import records
from dossier.app._password_policy import MAX_PASSWORD_LENGTH, WeakPassword, check_password
from dossier.app.owners import link_owners
from foundation.errors import DossierError, NotFound
from foundation.messages import msg
from index import Principal
from records import ROLES, ApiToken, Customer, LoginFailure, User, UserSession, record_event, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session, sessionmaker

    from foundation.config import Settings

__all__ = [
    "TOKEN_PREFIX",
    "AccountService",
    "LoginThrottled",
    "NewSession",
    "SessionEnded",
    "WeakPassword",
    "check_display_name",
    "check_password",
    "check_username",
    "principal_of",
]

#: Every API token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "dsk_"
#: ``last_seen_at`` and a token's ``last_used_at`` are written at most this often.
TOUCH_INTERVAL = timedelta(seconds=60)
#: Ended (or long unused) web sessions are deleted this long after; the audit trail keeps the logins.
SESSION_KEEP = timedelta(days=30)

_USERNAME = re.compile(r"^[\w.@-]{1,64}$")


@dataclass(frozen=True)
class NewSession:
    """A web session just opened: the random ``key`` and the password ``stamp`` the signed cookie carries."""

    key: str
    stamp: str


class SessionEnded(NotFound):
    """A web session that is unknown or over; ``reason`` says why: ``unknown``, ``idle``, ``disabled``, or the
    ``end_reason`` it ended with (``user``, ``password``, ``role``, ``admin``, ``relogin``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(msg("app.session.ended"))
        self.reason = reason


class LoginThrottled(DossierError):
    """Too many failed logins from one client address: it must wait ``retry_after_s`` seconds."""

    status = 429

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, -(-retry_after_s // 60))
        super().__init__(msg("app.login.throttled", minutes=minutes))
        self.retry_after_s = retry_after_s
        self.minutes = minutes


def check_username(username: str) -> str:
    """The user name stripped, or DossierError: 1–64 letters (any script), digits, ``. _ - @``."""
    name = username.strip()
    if not _USERNAME.match(name):
        raise DossierError(msg("app.user.invalid_name", name=repr(username)))
    return name


#: Names the records use for acts of no account (the operator's CLI, the inbox watcher): never a login.
RESERVED_NAMES = ("system", "inbox")
#: Longest display name.
MAX_DISPLAY_NAME = 128


def _updated(session: Session, statement: Any) -> int:
    """Run an UPDATE in ``session``; how many rows it changed."""
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def _check_reserved(name: str) -> None:
    if name.casefold() in RESERVED_NAMES:
        raise DossierError(msg("app.user.reserved_name", name=name))


def check_display_name(value: str | None) -> str | None:
    """A display name cleaned (spaces collapsed; empty: None), or DossierError: at most 128 printable characters."""
    if value is None:
        return None
    shown = " ".join(value.split())
    if len(shown) > MAX_DISPLAY_NAME or any(not ch.isprintable() for ch in shown):
        raise DossierError(msg("app.user.display_name_too_long", max=MAX_DISPLAY_NAME))
    return shown or None


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise DossierError(msg("app.user.unknown_role", role=repr(role), roles="、".join(ROLES)))
    return role


def token_hash(token: str) -> str:
    """The sha256 (hex) stored for an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _stamp(user: User) -> str:
    """A short fingerprint of the password hash: it changes when the password does (ending older sessions)."""
    return hashlib.sha256(user.password_hash.encode("ascii", "replace")).hexdigest()[:16]


def _touch_every(idle_s: int) -> timedelta:
    """How often a session's use is written: once a minute, or a quarter of a shorter idle limit (so that the
    limit never catches someone who is busy)."""
    if idle_s <= 0:
        return TOUCH_INTERVAL
    return min(TOUCH_INTERVAL, timedelta(seconds=max(1, idle_s // 4)))


def _token_state(token: ApiToken, now: datetime) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so a wrong user name costs as much as a wrong password."""
    return records.hash_password(secrets.token_hex(8))


def principal_of(sessions: sessionmaker[Session], username: str) -> Principal:
    """The principal of an active user; NotFound otherwise (:meth:`AccountService.principal_for`)."""
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise NotFound(msg("app.user.not_found", name=username))
        return _principal(user)


def _principal(user: User) -> Principal:
    """A user's principal; a sales rep carries the customers they own (their confidential documents)."""
    owned: frozenset[int] = frozenset()
    session = object_session(user)
    if user.role == "sales" and session is not None:
        owned = frozenset(session.scalars(select(Customer.id).where(Customer.owner_id == user.id)))
    return Principal(username=user.username, role=user.role, user_id=user.id, owned_customer_ids=owned)


class AccountService:
    """The accounts of one data home (see the module docstring).

    ``revoke_exports(username)`` voids a user's finished background exports; it is called when
    their role changes or they are disabled (the export service's
    :meth:`~dossier.app.export.ExportService.revoke_user`).
    """

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, *, revoke_exports: Callable[[str], object]
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._revoke_exports = revoke_exports

    # -- logins ------------------------------------------------------------------------------

    def _ip_retry_after(self, session: Session, client_ip: str, now: datetime) -> int:
        """Seconds ``client_ip`` must still wait (0 = it may try) under the per-address limit."""
        limit = self._settings.get_int("DOSSIER_LOGIN_IP_MAX_FAILURES")
        if limit <= 0:
            return 0
        window = timedelta(minutes=self._settings.get_int("DOSSIER_LOGIN_IP_WINDOW_MINUTES"))
        times = session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.ip == client_ip, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        if len(times) < limit:
            return 0
        # The address may try again when the oldest of its last `limit` failures leaves the window.
        return max(1, int((times[-1] + window - now).total_seconds()) + 1)

    def _login_failed(
        self, username: str, client_ip: str | None, reason: str, now: datetime, **detail: Any
    ) -> None:
        """Record one failure: the per-address row (old rows pruned) and the ``login_failed`` event."""
        with self._sessions() as session:
            if client_ip:
                window = timedelta(minutes=max(1, self._settings.get_int("DOSSIER_LOGIN_IP_WINDOW_MINUTES")))
                session.execute(delete(LoginFailure).where(LoginFailure.at < now - window))
                session.add(LoginFailure(ip=client_ip, username=username[:64], at=now))
            record_event(
                session,
                username,
                "login_failed",
                target_type="user",
                detail={"username": username, "ip": client_ip, "reason": reason, **detail},
            )
            session.commit()

    def authenticate(self, username: str, password: str, *, client_ip: str | None = None) -> Principal | None:
        """The principal for a correct password of an active, unlocked user; None for every failure.

        With ``client_ip`` (the web login) the per-address limit applies first: LoginThrottled
        when that address has failed too often.  Failures and successes are audited and counted
        as the module docstring says.
        """
        # No account name is longer than 64 characters: a form posted by anyone writes no more than
        # that into the trail, and the address is stored (and so compared) as the records keep it.
        # (65 keeps an over-long name from matching a real one once cut.)
        username, client_ip = username[:65], client_ip[:64] if client_ip else client_ip
        password = password[: MAX_PASSWORD_LENGTH + 1]  # longer ones were never set; argon2 works on no more
        dummy = _dummy_hash()
        now = utcnow()
        if client_ip:
            with self._sessions() as session:
                wait = self._ip_retry_after(session, client_ip, now)
            if wait:
                raise LoginThrottled(wait)
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            user_id = user.id if user is not None else None
            stored = user.password_hash if user is not None else dummy
            reason = None
            if user is None:
                reason = "unknown_user"
            elif not user.active:
                reason = "disabled"
            elif user.locked_until is not None and user.locked_until > now:
                reason = "locked"
            # Exactly one argon2 verification on every path: the answer's timing says nothing.
            good = records.verify_password(stored if reason is None else dummy, password)
        if reason is not None:
            self._login_failed(username, client_ip, reason, now)
            return None
        assert user_id is not None
        if not good:
            self._wrong_password(user_id, username, client_ip, now)
            return None
        with self._sessions() as session:
            user = session.get(User, user_id)
            assert user is not None
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = user.last_seen_at = now
            record_event(
                session,
                user.username,
                "login",
                target_type="user",
                target_id=user.id,
                detail={"ip": client_ip},
            )
            session.commit()
            return _principal(user)

    def _wrong_password(self, user_id: int, username: str, client_ip: str | None, now: datetime) -> None:
        """Count a wrong password; the one that reaches the limit locks the account."""
        limit = self._settings.get_int("DOSSIER_LOGIN_MAX_FAILURES")
        locked_until = None
        with self._sessions() as session:
            # One UPDATE, so failures counted by several processes at once all count.
            session.execute(
                update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1)
            )
            failures = int(session.scalar(select(User.failed_logins).where(User.id == user_id)) or 0)
            if limit > 0 and failures >= limit:
                locked_until = now + timedelta(minutes=self._settings.get_int("DOSSIER_LOGIN_LOCK_MINUTES"))
                session.execute(
                    update(User).where(User.id == user_id).values(failed_logins=0, locked_until=locked_until)
                )
            session.commit()
        extra: dict[str, Any] = {"failures": failures}
        if locked_until is not None:
            extra["locked_until"] = _iso(locked_until)
        self._login_failed(username, client_ip, "bad_password", now, **extra)

    # -- sessions ----------------------------------------------------------------------------

    def start_session(self, user_id: int, *, client_ip: str | None = None) -> NewSession:
        """Open a web session for an (authenticated) active user: its key and stamp, for the signed cookie only.

        Only the key's sha256 is stored.  Sessions that ended (or went unused) long ago are
        pruned here: the audit trail keeps the logins and logouts.  NotFound for a user who is
        gone or disabled.
        """
        key = secrets.token_urlsafe(32)
        now = utcnow()
        idle = timedelta(minutes=max(0, self._settings.get_int("DOSSIER_SESSION_IDLE_MINUTES")))
        with self._sessions() as session:
            user = session.get(User, user_id)
            if user is None or not user.active:
                raise NotFound(msg("app.user.not_found", name=user_id))
            session.execute(delete(UserSession).where(UserSession.ended_at < now - SESSION_KEEP))
            unused = UserSession.last_seen_at < now - max(SESSION_KEEP, idle + SESSION_KEEP)
            session.execute(delete(UserSession).where(UserSession.ended_at.is_(None), unused))
            session.add(
                UserSession(
                    id=token_hash(key),
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    ip=client_ip[:64] if client_ip else None,
                )
            )
            session.commit()
            return NewSession(key, _stamp(user))

    def principal_for_session(
        self,
        key: str,
        *,
        user_id: int | None = None,
        stamp: str | None = None,
        client_ip: str | None = None,
        touch: bool = True,
    ) -> Principal:
        """The principal of an open web session (one primary-key read); SessionEnded otherwise.

        The session must exist, not have ended, belong to ``user_id`` (what the cookie says) and
        to an active user whose password is the one it began with (``stamp``, when given: a
        password changed by any path, a restored backup included, ends it), and have been used
        within DOSSIER_SESSION_IDLE_MINUTES — an idle one is ended here (``idle``, with a
        ``logout`` event).  With ``touch`` (a person's request,
        not a page's own poll) its ``last_seen_at`` and the user's are written, at most once a
        minute and often enough that a short idle limit never catches someone who is busy.
        """
        now = utcnow()
        idle_s = max(0, self._settings.get_int("DOSSIER_SESSION_IDLE_MINUTES")) * 60
        with self._sessions() as session:
            found = (
                session.execute(
                    select(UserSession, User)
                    .join(User, User.id == UserSession.user_id)
                    .where(UserSession.id == token_hash(key))
                ).first()
                if key
                else None
            )
            if found is None:
                raise SessionEnded("unknown")
            row, user = found
            if row.ended_at is not None or (user_id is not None and row.user_id != user_id):
                raise SessionEnded(row.end_reason or "ended")
            if not user.active:
                self._end(row, "disabled", now)
                session.commit()
                raise SessionEnded("disabled")
            if stamp is not None and not hmac.compare_digest(stamp, _stamp(user)):
                self._end(row, "password", now)
                session.commit()
                raise SessionEnded("password")
            seen = row.last_seen_at or row.created_at
            if idle_s and (now - seen).total_seconds() > idle_s:
                self._end(row, "idle", now)
                record_event(
                    session,
                    user.username,
                    "logout",
                    target_type="user",
                    target_id=user.id,
                    detail={"ip": client_ip, "reason": "idle"},
                )
                session.commit()
                raise SessionEnded("idle")
            if touch and now - seen >= _touch_every(idle_s):
                row.last_seen_at = user.last_seen_at = now
                session.commit()
            return _principal(user)

    def end_session(self, key: str, reason: str = "user", *, client_ip: str | None = None) -> str | None:
        """End the web session of ``key`` (a ``logout`` event with ``reason``); returns its user, None if it was not open."""
        now = utcnow()
        with self._sessions() as session:
            row = session.get(UserSession, token_hash(key)) if key else None
            if row is None or row.ended_at is not None:
                return None
            self._end(row, reason, now)
            record_event(
                session,
                row.user.username,
                "logout",
                target_type="user",
                target_id=row.user_id,
                detail={"ip": client_ip, "reason": reason},
            )
            session.commit()
            return row.user.username

    def end_sessions(self, username: str, *, actor: str = "system") -> int:
        """End every open web session of ``username`` (e.g. a lost laptop); returns how many.  NotFound for an unknown user."""
        with self._sessions() as session:
            user = self._user(session, username)
            ended = self._end_user_sessions(session, user.id, "admin")
            record_event(
                session,
                actor,
                "logout",
                target_type="user",
                target_id=user.id,
                detail={"username": user.username, "reason": "admin", "sessions_ended": ended},
            )
            session.commit()
            return ended

    @staticmethod
    def _end(row: UserSession, reason: str, now: datetime) -> None:
        row.ended_at, row.end_reason = now, reason

    @staticmethod
    def _end_user_sessions(session: Session, user_id: int, reason: str) -> int:
        """End every open session of a user in ``session``'s transaction; returns how many."""
        result = session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def open_sessions(self, username: str) -> int:
        """How many web sessions of ``username`` are open (not ended; an idle one ends on its next use)."""
        with self._sessions() as session:
            user = self._user(session, username)
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(UserSession)
                    .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                )
                or 0
            )

    def principal_for(self, username: str) -> Principal:
        """The principal of an active user; NotFound otherwise."""
        return principal_of(self._sessions, username)

    # -- managing users ----------------------------------------------------------------------

    @staticmethod
    def _user(session: Session, username: str) -> User:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(msg("app.user.not_found", name=username))
        return user

    def add_user(
        self,
        username: str,
        role: str,
        password: str,
        *,
        actor: str = "system",
        display_name: str | None = None,
    ) -> dict[str, Any]:
        """Create an active user with ``role`` and ``password`` (the password policy applies).

        ``display_name`` is the person's name as others write it (张伟).  Customers whose
        registry owner name is the login or the display name become theirs at once
        (:func:`dossier.app.owners.link_owners`); returns ``{"linked": [customer names]}``.
        """
        name = check_username(username)
        _check_reserved(name)
        _check_role(role)
        shown = check_display_name(display_name)
        check_password(name, password, [shown])
        with self._sessions() as session:
            if (
                session.scalars(select(User.id).where(func.lower(User.username) == name.lower())).first()
                is not None
            ):
                raise DossierError(msg("app.user.exists", name=name))
            user = User(
                username=name,
                role=role,
                password_hash=records.hash_password(password),
                active=True,
                display_name=shown,
            )
            session.add(user)
            session.flush()
            links = link_owners(session)
            detail: dict[str, Any] = {"username": name, "role": role}
            if shown:
                detail["display_name"] = shown
            if links.linked:
                detail["owners_linked"] = links.linked_summary()
            record_event(session, actor, "user_add", target_type="user", target_id=user.id, detail=detail)
            try:
                session.commit()
            except IntegrityError:  # the same name added by someone else at the same moment
                raise DossierError(msg("app.user.exists", name=name)) from None
            return {"linked": [link["customer"] for link in links.linked]}

    def set_display_name(
        self, username: str, display_name: str | None, *, actor: str = "system"
    ) -> dict[str, Any]:
        """Give a user a display name (empty: none); customers whose owner name it is become theirs.

        Customers already linked to the user stay theirs.  Returns ``{"linked": [customer names]}``.
        """
        shown = check_display_name(display_name)
        with self._sessions() as session:
            user = self._user(session, username)
            before, user.display_name = user.display_name, shown
            session.flush()
            links = link_owners(session)
            detail: dict[str, Any] = {"username": user.username, "from": before, "to": shown}
            if links.linked:
                detail["owners_linked"] = links.linked_summary()
            record_event(
                session, actor, "user_set_display_name", target_type="user", target_id=user.id, detail=detail
            )
            session.commit()
            return {"linked": [link["customer"] for link in links.linked]}

    def rename_user(self, username: str, new_name: str, *, actor: str = "system") -> dict[str, Any]:
        """Change a user's login everywhere it is stored; their customers, tokens and role stay.

        The login is carried to the versions they uploaded, the intake batches they started
        and their exports; audit events keep the name they were written with (the trail is
        append-only; the ``user_rename`` event links both names).  Their open web sessions end
        (they log in with the new name).  The ``admin`` account that ``dossier init`` looks
        for keeps its name.  Returns ``{"linked": [customer names]}`` (owner names equal to
        the new login).
        """
        name = check_username(new_name)
        _check_reserved(name)
        with self._sessions() as session:
            user = self._user(session, username)
            old = user.username
            if old == "admin":
                raise DossierError(msg("app.user.admin_keeps_name"))
            taken = session.scalars(
                select(User.id).where(func.lower(User.username) == name.lower(), User.id != user.id)
            ).first()
            if taken is not None:
                raise DossierError(msg("app.user.exists", name=name))
            if name == old:
                return {"linked": []}
            user.username = name
            carried = {
                "versions": _updated(
                    session,
                    update(records.Version)
                    .where(records.Version.uploaded_by == old)
                    .values(uploaded_by=name),
                ),
                "batches": _updated(
                    session,
                    update(records.IngestBatch)
                    .where(records.IngestBatch.created_by == old)
                    .values(created_by=name),
                ),
                "exports": _updated(
                    session,
                    update(records.ExportJob).where(records.ExportJob.username == old).values(username=name),
                ),
                "sessions_ended": _updated(
                    session,
                    update(records.UserSession)
                    .where(records.UserSession.user_id == user.id, records.UserSession.ended_at.is_(None))
                    .values(ended_at=utcnow(), end_reason="rename"),
                ),
            }
            session.flush()
            links = link_owners(session)
            detail: dict[str, Any] = {"username": name, "from": old, "to": name, "carried": carried}
            if links.linked:
                detail["owners_linked"] = links.linked_summary()
            record_event(session, actor, "user_rename", target_type="user", target_id=user.id, detail=detail)
            try:
                session.commit()
            except IntegrityError:  # the new name was taken at the same moment
                raise DossierError(msg("app.user.exists", name=name)) from None
            return {"linked": [link["customer"] for link in links.linked]}

    @staticmethod
    def check_admin_password(password: str) -> None:
        """Refuse a weak password chosen for the first admin (``dossier init``, DOSSIER_ADMIN_PASSWORD), saying so."""
        try:
            check_password("admin", password)
        except WeakPassword as exc:
            raise WeakPassword(
                f"管理员密码（DOSSIER_ADMIN_PASSWORD）不可用：{exc.zh}",
                f"the admin password (DOSSIER_ADMIN_PASSWORD) is refused: {exc.en}",
            ) from None

    def set_password(self, username: str, password: str, *, actor: str = "system") -> None:
        """Give a user a new password (argon2-hashed; the policy applies, with the user's names as
        guesses); it also lifts a lock-out and ends the user's web sessions.  NotFound for an unknown user."""
        with self._sessions() as session:
            user = self._user(session, username)
            check_password(user.username, password, [user.display_name])
            user.password_hash = records.hash_password(password)
            user.failed_logins = 0
            user.locked_until = None
            ended = self._end_user_sessions(session, user.id, "password")
            record_event(
                session,
                actor,
                "user_set_password",
                target_type="user",
                target_id=user.id,
                detail={"username": username, "sessions_ended": ended},
            )
            session.commit()

    def _other_active_admins(self, session: Session, user: User) -> int:
        return int(
            session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.role == "admin", User.active.is_(True), User.id != user.id)
            )
            or 0
        )

    def set_active(self, username: str, active: bool, *, actor: str = "system") -> None:
        """Disable or enable a user; enabling also lifts a lock-out.

        Disabling ends the user's web sessions, revokes every API token for good (enabling the
        user again brings none of them back) and voids their finished background exports.  The
        last active admin cannot be disabled.
        """
        with self._sessions() as session:
            user = self._user(session, username)
            if (
                not active
                and user.role == "admin"
                and user.active
                and not self._other_active_admins(session, user)
            ):
                raise DossierError(msg("app.user.last_admin_disable"))
            user.active = active
            detail: dict[str, Any] = {"username": username}
            if active:
                user.failed_logins = 0
                user.locked_until = None
            else:
                detail["sessions_ended"] = self._end_user_sessions(session, user.id, "disabled")
                detail["tokens_revoked"] = self._revoke_user_tokens(session, user, actor, "user_disabled")
            record_event(
                session,
                actor,
                "user_enable" if active else "user_disable",
                target_type="user",
                target_id=user.id,
                detail=detail,
            )
            session.commit()
        if not active:
            self._revoke_exports(username)  # what they exported before is theirs no more

    def set_role(self, username: str, role: str, *, actor: str = "system") -> None:
        """Change a user's role: their web sessions end (they log in again under the new role), their finished
        background exports are voided, their API tokens act with the new role from the next request.  The
        last active admin keeps theirs."""
        _check_role(role)
        with self._sessions() as session:
            user = self._user(session, username)
            if (
                user.role == "admin"
                and role != "admin"
                and user.active
                and not self._other_active_admins(session, user)
            ):
                raise DossierError(msg("app.user.last_admin_role"))
            old, user.role = user.role, role
            detail: dict[str, Any] = {"username": username, "from": old, "to": role}
            if old != role:
                detail["sessions_ended"] = self._end_user_sessions(session, user.id, "role")
            record_event(
                session, actor, "user_set_role", target_type="user", target_id=user.id, detail=detail
            )
            session.commit()
        if old != role:
            self._revoke_exports(username)  # filtered by the old role's rights

    def users(self) -> list[dict[str, Any]]:
        """Every user, by name: display name, role, active, created, last login, last seen, locked until (only while locked)."""
        now = utcnow()
        with self._sessions() as session:
            return [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "email": u.email,
                    "role": u.role,
                    "active": u.active,
                    "created_at": _iso(u.created_at),
                    "last_login_at": _iso(u.last_login_at),
                    "last_seen_at": _iso(u.last_seen_at),
                    "locked_until": _iso(u.locked_until) if u.locked_until and u.locked_until > now else None,
                }
                # Sorted here, not by the database: PostgreSQL's collation may order names differently.
                for u in sorted(session.scalars(select(User)), key=lambda u: u.username)
            ]

    # -- API tokens --------------------------------------------------------------------------

    def create_token(
        self, username: str, name: str = "", *, expires_at: datetime | None = None, actor: str = "system"
    ) -> tuple[int, str]:
        """A new API token for an active ``username``: returns ``(id, token)``; the token is not stored and cannot
        be shown again.  ``expires_at`` (UTC, in the future) ends it then; None = until revoked."""
        now = utcnow()
        if expires_at is not None and expires_at <= now:
            raise DossierError(msg("app.token.expiry_past"))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._sessions() as session:
            user = self._user(session, username)
            if not user.active:
                raise DossierError(msg("app.token.user_disabled", name=username))
            row = ApiToken(
                user_id=user.id, name=name.strip()[:64], token_hash=token_hash(token), expires_at=expires_at
            )
            session.add(row)
            session.flush()
            record_event(
                session,
                actor,
                "token_create",
                target_type="api_token",
                target_id=row.id,
                detail={"username": username, "name": row.name, "expires_at": _iso(expires_at)},
            )
            session.commit()
            return int(row.id), token

    def tokens(self, username: str) -> list[dict[str, Any]]:
        """``username``'s tokens, oldest first: id, name, created, last used, expires, revoked, state (never the token).

        ``state`` is ``active``, ``expired`` or ``revoked``.
        """
        now = utcnow()
        with self._sessions() as session:
            user = self._user(session, username)
            rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
            return [
                {
                    "id": t.id,
                    "name": t.name,
                    "created_at": _iso(t.created_at),
                    "last_used_at": _iso(t.last_used_at),
                    "expires_at": _iso(t.expires_at),
                    "revoked_at": _iso(t.revoked_at),
                    "state": _token_state(t, now),
                }
                for t in rows
            ]

    def revoke_token(self, token_id: int, *, actor: str = "system") -> str:
        """Revoke a token at once (again: no change); returns its user's name.  NotFound for an unknown id."""
        with self._sessions() as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise NotFound(msg("app.token.not_found", id=token_id))
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                record_event(
                    session,
                    actor,
                    "token_revoke",
                    target_type="api_token",
                    target_id=row.id,
                    detail={"username": row.user.username, "name": row.name},
                )
            session.commit()
            return row.user.username

    @staticmethod
    def _revoke_user_tokens(session: Session, user: User, actor: str, reason: str) -> int:
        """Revoke every token of ``user`` not yet revoked (a ``token_revoke`` event each); returns how many."""
        now = utcnow()
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ).all()
        for row in rows:
            row.revoked_at = now
            record_event(
                session,
                actor,
                "token_revoke",
                target_type="api_token",
                target_id=row.id,
                detail={"username": user.username, "name": row.name, "reason": reason},
            )
        return len(rows)

    def principal_for_token(self, token: str) -> Principal:
        """The principal of a valid API token (recording its use); NotFound when unknown, revoked, expired or its
        user disabled (an expired token says so)."""
        refused = NotFound(msg("app.token.invalid"))
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise refused
        digest = token_hash(token)
        now = utcnow()
        with self._sessions() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
            if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
                raise refused
            if row.expires_at is not None and row.expires_at <= now:
                when = _iso(row.expires_at).replace("T", " ")  # type: ignore[union-attr]
                raise NotFound(msg("app.token.expired", when=when))
            user = row.user
            if not user.active:
                raise refused
            principal = _principal(user)
            if row.last_used_at is None or row.last_used_at < now - TOUCH_INTERVAL:
                row.last_used_at = now
                session.commit()
            return principal

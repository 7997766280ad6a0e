"""Saved views (保存的视图, ``Dossier.views``): named searches per user, optionally shared with the team.

A view is only a query: the search page's parameters (:data:`dossier.app.search_request.PARAMS`),
stored as a normalised query string and checked by parsing them exactly as the search page does
(:func:`dossier.app.search_request.search_request`), so a view that saves is a view that opens.
Whoever opens a view — its owner or a colleague it was shared with — searches with their own
rights; nothing about a view grants anything.

Every user lists their own views and the shared ones; only a view's owner (or an admin)
renames, re-shares, changes or deletes it (anyone else gets 404 for a view they cannot see,
403 for a shared one that is not theirs).  Names are unique per owner, at most
:data:`MAX_NAME` characters; a user keeps at most :data:`MAX_VIEWS` views.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from dossier.app.search_request import PARAMS, search_request
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import Principal
from records import SavedView, User

__all__ = ["MAX_NAME", "MAX_PARAMS", "MAX_VIEWS", "SavedViewService", "ViewError", "normalise_params"]

#: The longest name a view may have (characters), the most views one user keeps, the longest query string.
MAX_NAME = 80
MAX_VIEWS = 100
MAX_PARAMS = 4000


class ViewError(DossierError):
    """A view that cannot be saved as asked: no name, too long, too many, a search that means nothing."""

    status = 400


class ViewNameTaken(ViewError):
    """The owner already has a view of that name."""

    status = 409


def normalise_params(raw: str | list[tuple[str, str]] | dict[str, Any]) -> str:
    """The search parameters of ``raw`` (a query string, pairs or a mapping) as a query string, checked.

    Only the search page's parameters are kept (paging is not part of a view); a value that
    cannot mean anything raises the search's own 400 error (an unknown type, a bad date …).
    """
    if isinstance(raw, str):
        if len(raw) > 4 * MAX_PARAMS:  # refused before it is parsed (escapes may shrink it, not by more)
            raise ViewError(msg("app.views.params_too_long", max=MAX_PARAMS))
        pairs = parse_qsl(raw.lstrip("?"), keep_blank_values=False)
    elif isinstance(raw, dict):
        pairs = [(k, str(v)) for k, vs in raw.items() for v in (vs if isinstance(vs, list | tuple) else [vs])]
    else:
        pairs = list(raw)
    kept = [(k, v.strip()) for k, v in pairs if k in PARAMS and str(v).strip()]
    values: dict[str, list[str]] = {}
    for k, v in kept:
        values.setdefault(k, []).append(v)
    search_request(values, limit=1)  # raises BadSearchValue / BadDate (400) like the search page
    query = urlencode(kept)
    if len(query) > MAX_PARAMS:
        raise ViewError(msg("app.views.params_too_long", max=MAX_PARAMS))
    return query


def _name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ViewError(msg("app.views.name_required"))
    if len(name) > MAX_NAME:
        raise ViewError(msg("app.views.name_too_long", max=MAX_NAME))
    return name


class SavedViewService:
    """Saving, listing, renaming, sharing and deleting saved views (one transaction each)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def list(self, principal: Principal) -> list[dict[str, Any]]:
        """The caller's views and the team's shared ones (own first, then by name)."""
        uid = principal.user_id
        with self._sessions() as session:
            rows = session.execute(
                select(SavedView, User.username)
                .join(User, User.id == SavedView.user_id)
                .where(or_(SavedView.user_id == uid, SavedView.shared.is_(True)))
            ).all()
            views = [self._json(v, owner, principal) for v, owner in rows]
        return sorted(views, key=lambda v: (not v["mine"], v["name"].casefold(), v["id"]))

    def get(self, view_id: int, principal: Principal) -> dict[str, Any]:
        """One view the caller may see (their own or a shared one); NotFound otherwise."""
        with self._sessions() as session:
            view = self._visible(session, view_id, principal)
            return self._json(view, self._owner(session, view), principal)

    def save(
        self, principal: Principal, name: str | None, params: Any, *, shared: bool = False
    ) -> dict[str, Any]:
        """A new view of the caller's: ``name`` (unique among theirs), the search ``params``, ``shared`` or not."""
        if principal.user_id is None:
            raise ViewError(msg("app.views.needs_account"))
        clean, query = _name(name), normalise_params(params)
        with self._sessions() as session:
            count = session.scalar(
                select(func.count(SavedView.id)).where(SavedView.user_id == principal.user_id)
            )
            if (count or 0) >= MAX_VIEWS:
                raise ViewError(msg("app.views.too_many", max=MAX_VIEWS))
            self._check_free(session, principal.user_id, clean)
            view = SavedView(user_id=principal.user_id, name=clean, params=query, shared=bool(shared))
            session.add(view)
            session.commit()
            return self._json(view, principal.username, principal)

    def update(
        self,
        view_id: int,
        principal: Principal,
        *,
        name: str | None = None,
        params: Any = None,
        shared: bool | None = None,
    ) -> dict[str, Any]:
        """Rename, re-share or change the search of a view (its owner or an admin)."""
        with self._sessions() as session:
            view = self._owned(session, view_id, principal)
            if name is not None:
                clean = _name(name)
                if clean != view.name:
                    self._check_free(session, view.user_id, clean)
                    view.name = clean
            if params is not None:
                view.params = normalise_params(params)
            if shared is not None:
                view.shared = bool(shared)
            session.commit()
            return self._json(view, self._owner(session, view), principal)

    def delete(self, view_id: int, principal: Principal) -> dict[str, Any]:
        """Delete a view (its owner or an admin); ``{"deleted": id}``."""
        with self._sessions() as session:
            view = self._owned(session, view_id, principal)
            session.delete(view)
            session.commit()
        return {"deleted": view_id}

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _check_free(session: Session, user_id: int, name: str) -> None:
        taken = session.scalar(
            select(SavedView.id).where(SavedView.user_id == user_id, SavedView.name == name)
        )
        if taken is not None:
            raise ViewNameTaken(msg("app.views.name_taken", name=name))

    @staticmethod
    def _visible(session: Session, view_id: int, principal: Principal) -> SavedView:
        view = session.get(SavedView, view_id)
        if view is None or not (
            view.shared or view.user_id == principal.user_id or principal.role == "admin"
        ):
            raise NotFound(msg("app.views.not_found", id=view_id))
        return view

    def _owned(self, session: Session, view_id: int, principal: Principal) -> SavedView:
        view = self._visible(session, view_id, principal)
        if view.user_id != principal.user_id and principal.role != "admin":
            raise Forbidden(msg("app.views.not_owner"))
        return view

    @staticmethod
    def _owner(session: Session, view: SavedView) -> str:
        return session.scalar(select(User.username).where(User.id == view.user_id)) or ""

    @staticmethod
    def _json(view: SavedView, owner: str, principal: Principal) -> dict[str, Any]:
        mine = view.user_id == principal.user_id
        return {
            "id": view.id,
            "name": view.name,
            "params": view.params,
            "shared": view.shared,
            "owner": owner,
            "mine": mine,
            "may_change": mine or principal.role == "admin",
            "created_at": view.created_at.isoformat(timespec="seconds"),
            "updated_at": view.updated_at.isoformat(timespec="seconds"),
        }

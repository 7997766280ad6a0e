"""Customer owners: the registry's owner name (负责人) resolved to a user account.

A sales rep sees the confidential documents of the customers they own (``customers.owner_id``).
The registry names owners as people write them (罗蓉, ``luorong``); an owner name matches the
account whose **login or display name** is that name, compared after NFKC, case folding and
without spaces or middle dots (``Luo Rong`` = ``luorong``, ``罗 蓉`` = ``罗蓉``).  A name that fits
two accounts (one's login, another's display name) is *ambiguous* and links to neither; a name
that fits none is *unmatched*.  Both are reported (``dossier customers list``, ``dossier
status``) until an account or the registry changes.

Once linked, a customer keeps its account: renaming the login or changing the display name
does not unlink it.  Only a new owner name (a registry import or an edit that changes 负责人)
unlinks it and resolves the new name.  :func:`link_owners` runs in the caller's transaction
whenever accounts or the registry change: a user added, renamed or given a display name, a
registry import, a customer edit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.messages import Message, msg
from records import Customer, User

__all__ = ["OwnerLinks", "link_owners", "owner_key", "owner_warning", "unmatched_owners"]

_IGNORED = re.compile(r"[\s·•・]+")
#: How many customer names an event or a report lists per owner (the count is always complete).
MAX_LISTED = 20


def owner_key(name: str | None) -> str:
    """An owner name or login as compared: NFKC, case folded, no spaces or middle dots."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", name or "").casefold())


@dataclass
class OwnerLinks:
    """What :func:`link_owners` did: customers newly linked, owner names it could not resolve."""

    #: ``{"customer_id", "customer", "owner", "username"}`` for each customer linked now.
    linked: list[dict[str, Any]] = field(default_factory=list)
    #: ``{"owner", "reason" ("no_account" | "ambiguous"), "accounts", "customers", "count"}`` per name.
    unmatched: list[dict[str, Any]] = field(default_factory=list)

    def linked_summary(self) -> list[dict[str, Any]]:
        """The links as an audit detail lists them: per account, the customers (at most MAX_LISTED each)."""
        by_user: dict[str, list[str]] = {}
        for link in self.linked:
            by_user.setdefault(link["username"], []).append(link["customer"])
        return [
            {"username": user, "count": len(names), "customers": names[:MAX_LISTED]}
            for user, names in sorted(by_user.items())
        ]


def _accounts(session: Session) -> dict[str, dict[int, str]]:
    """owner key -> {user id: login} of every account, by login and by display name."""
    out: dict[str, dict[int, str]] = {}
    for user in session.scalars(select(User)):
        for name in (user.username, user.display_name):
            key = owner_key(name)
            if key:
                out.setdefault(key, {})[user.id] = user.username
    return out


def _resolve(session: Session, *, apply: bool) -> OwnerLinks:
    accounts = _accounts(session)
    result = OwnerLinks()
    waiting: dict[str, list[Customer]] = {}
    query = select(Customer).where(
        Customer.status != "rejected", Customer.owner_id.is_(None), Customer.owner_name.is_not(None)
    )
    for customer in session.scalars(query):
        key = owner_key(customer.owner_name)
        if not key:
            continue
        fits = accounts.get(key, {})
        if len(fits) == 1 and apply:
            ((user_id, username),) = fits.items()
            customer.owner_id = user_id
            result.linked.append(
                {
                    "customer_id": customer.id,
                    "customer": customer.name,
                    "owner": customer.owner_name,
                    "username": username,
                }
            )
        elif len(fits) != 1:
            waiting.setdefault(key, []).append(customer)
    for key, customers in sorted(waiting.items(), key=lambda kv: str(kv[1][0].owner_name)):
        fits = accounts.get(key, {})
        names = sorted(c.name for c in customers)
        result.unmatched.append(
            {
                "owner": customers[0].owner_name,
                "reason": "ambiguous" if fits else "no_account",
                "accounts": sorted(fits.values()),
                "count": len(customers),
                "customers": names[:MAX_LISTED],
            }
        )
    if apply and result.linked:
        session.flush()
    return result


def link_owners(session: Session) -> OwnerLinks:
    """Link every customer without an account to the one its owner name matches (see the module docs).

    Works in the caller's transaction (flushes, never commits); returns the new links and
    the names left unmatched or ambiguous.
    """
    return _resolve(session, apply=True)


def unmatched_owners(session: Session) -> list[dict[str, Any]]:
    """Owner names of the registry that match no account, or several (read only; see :class:`OwnerLinks`)."""
    return _resolve(session, apply=False).unmatched


def owner_warning(item: dict[str, Any]) -> Message:
    """One line about an unmatched owner name (``str()``: 中文 / English)."""
    owner, count = item["owner"], item["count"]
    if item["reason"] == "ambiguous":
        accounts = "、".join(item["accounts"])
        return msg("app.owner.ambiguous", owner=owner, accounts=accounts, count=count)
    return msg("app.owner.unmatched", owner=owner, count=count)

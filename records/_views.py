"""Saved views (保存的视图): a user's named searches, stored as the search page's query string.

A :class:`SavedView` belongs to one user (``user_id``; it goes with the account) and carries
``params``, the search page's query parameters (``q=…&type=contract&sort=date_desc``) — only a
query: whoever opens it searches with their own rights.  ``shared`` lists it for the whole team;
names are unique per owner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records._models import Base, utcnow


class SavedView(Base):
    """A named search of one user, optionally shared with the team."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    params: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

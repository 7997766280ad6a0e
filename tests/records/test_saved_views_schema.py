"""Migration 0013 (saved views) on SQLite and PostgreSQL: the table, one name per user, rows go with their user."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import SavedView, User, migrate


def test_saved_views_are_unique_per_user_and_go_with_the_user(records_engine):
    """The same name twice for one user is refused by the database; another user may use it; deleting the
    user deletes their views."""
    migrate(records_engine)
    assert "saved_views" in inspect(records_engine).get_table_names()
    with Session(records_engine) as session:
        alice, bob = (
            User(username="alice", role="sales", password_hash="x"),
            User(username="bob", role="sales", password_hash="x"),
        )
        session.add_all([alice, bob])
        session.flush()
        first = SavedView(user_id=alice.id, name="合同", params="q=合同")
        session.add_all([first, SavedView(user_id=bob.id, name="合同")])
        session.commit()
        assert first.shared is False
        session.add(SavedView(user_id=alice.id, name="合同", params="q=x"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.delete(session.get(User, alice.id))
        session.commit()
        assert [v.user_id for v in session.query(SavedView).all()] == [bob.id]

"""The workers' notification step: run what is due and send the waiting mails, in a thread of its own."""

from __future__ import annotations

import logging
from datetime import date
from types import SimpleNamespace

from foundation.messages import render_stored
from index import Principal
from tests._smtp import hanging_server, smtp_server
from tests.app.test_notifications import make_home, populate
from workers._outage import RedisOutage
from workers.runner import _Housekeeping


def _keeper(d, name: str = "w1") -> _Housekeeping:  # type: ignore[no-untyped-def]
    ctx = SimpleNamespace(name=name, notifications=d.notifications)
    return _Housekeeping(ctx, d.queue(), RedisOutage(logging.getLogger("test"), 1.0))  # type: ignore[arg-type]


def test_a_worker_round_notifies_and_sends_once(tmp_path, redis_url):
    """The step runs the notifications (one worker per few minutes: a Redis key) and sends the mails; a second
    worker's round and a later round send nothing twice."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port, DOSSIER_REDIS_URL=redis_url)
        populate(d, date.today())
        queue = d.queue()
        queue.redis.delete(f"dossier:notify:{queue.name}")
        first = _keeper(d, "w1")._notifications()
        assert first is not None
        first.join(60)
        assert not first.is_alive()
        same_day = [m for m in box.messages() if "提醒：" in m["Subject"]]
        assert sorted(m["To"] for m in same_day) == ["rep1@example.com", "rep2@example.com"]
        assert queue.redis.get(f"dossier:notify:{queue.name}") == b"w1"
        for keeper in (_keeper(d, "w2"), _keeper(d, "w1")):
            thread = keeper._notifications()
            assert thread is not None
            thread.join(60)
        assert len([m for m in box.messages() if "提醒：" in m["Subject"]]) == 2
        assert d.notifications.unread_count(d.accounts.principal_for("rep1")) == 2
        d.close()


def test_a_hanging_smtp_server_does_not_hold_the_worker(tmp_path, redis_url):
    """The step returns at once (the liveness rounds go on); its thread ends after the timeout with the error
    kept, and the mail waits for its next try."""
    with hanging_server() as port:
        d = make_home(tmp_path / "home", port, DOSSIER_REDIS_URL=redis_url, DOSSIER_SMTP_TIMEOUT="1")
        populate(d, date.today())
        queue = d.queue()
        queue.redis.delete(f"dossier:notify:{queue.name}")
        keeper = _keeper(d)
        thread = keeper._notifications()
        assert thread is not None
        thread.join(60)
        assert not thread.is_alive()
        waiting = d.notifications.mails(Principal("admin", "admin"), "pending")
        assert any(
            row["attempts"] == 1 and "did not answer" in render_stored(row["last_error"], "en")
            for row in waiting
        )
        d.close()

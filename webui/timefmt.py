"""Times as the reader reads them: in DOSSIER_TIMEZONE, absolute or relative ("3 小时前").

The records keep times in UTC (ISO strings or naive datetimes); the pages show them in the zone of
the team (:attr:`foundation.config.Settings.timezone`, default Asia/Shanghai). Two Jinja filters:

- ``localtime``: ``<time datetime="2026-12-07T06:33:23Z" title="2026-12-07 14:33:23 (UTC+08:00)">2026-12-07
  14:33</time>`` — for a time that matters as such (a job's start, an audit entry, a version's upload);
- ``ago``: the same ``<time>`` with "刚刚", "5 分钟前", "3 小时前", "昨天 14:33", "4 天前" and the date
  beyond a week — for lists of recent things (notifications, comments, the jobs list).

A stored *date* (``doc_date`` 2026-03-01) is a date, not a time: both filters give it back as written.
The pure functions take the zone, the language and the clock as arguments (tests fix them).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from flask import Flask, current_app
from markupsafe import Markup

from foundation.messages import translate

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_utc(value: Any) -> datetime | None:
    """A UTC datetime from what the records hold: a datetime (naive = UTC) or an ISO string; else None."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str) and value.strip() and not _DATE_ONLY.match(value.strip()):
        text = value.strip().replace(" ", "T", 1)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


def _offset(local: datetime) -> str:
    delta = local.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_local(moment: datetime, zone: tzinfo) -> str:
    """``2026-12-07 14:33``: a UTC moment in ``zone``, to the minute."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def format_full(moment: datetime, zone: tzinfo) -> str:
    """``2026-12-07 14:33:23 (UTC+08:00)``: the moment to the second, with the zone's offset (the tooltip)."""
    local = moment.astimezone(zone)
    return f"{local.strftime('%Y-%m-%d %H:%M:%S')} ({_offset(local)})"


def format_ago(moment: datetime, now: datetime, zone: tzinfo, lang: str) -> str:
    """How long ago ``moment`` was, as a person says it; beyond a week (or in the future) the local date."""
    seconds = (now - moment).total_seconds()
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if seconds < -60:  # a time still to come (an expiry): its local time, not a riddle
        return format_local(moment, zone)
    if seconds < 60:
        return translate("time.just_now", lang)
    if seconds < 3600:
        n = int(seconds // 60)
        return translate("time.minute_ago", lang) if n == 1 else translate("time.minutes_ago", lang, n=n)
    if local.date() == today:
        n = int(seconds // 3600)
        return translate("time.hour_ago", lang) if n == 1 else translate("time.hours_ago", lang, n=n)
    days = (today - local.date()).days
    if days == 1:
        return translate("time.yesterday", lang, time=local.strftime("%H:%M"))
    if days <= 7:
        return translate("time.days_ago", lang, n=days)
    return local.strftime("%Y-%m-%d")


def _time_tag(moment: datetime, zone: tzinfo, text: str) -> Markup:
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, format_full(moment, zone), text)


def _zone() -> tzinfo:
    zone = current_app.config.get("DOSSIER_ZONE")
    if zone is None:
        zone = current_app.config["DOSSIER_SETTINGS"].timezone
        current_app.config["DOSSIER_ZONE"] = zone
    return zone


def _now() -> datetime:
    """The clock of the pages (``app.config["DOSSIER_NOW"]`` fixes it in tests)."""
    fixed = current_app.config.get("DOSSIER_NOW")
    return fixed if isinstance(fixed, datetime) else datetime.now(UTC)


def localtime(value: Any, empty: str = "") -> Markup | str:
    """Jinja filter: a UTC time in the team's zone inside ``<time>``; a date as written; ``empty`` for none."""
    moment = to_utc(value)
    if moment is None:
        return _as_written(value, empty)
    zone = _zone()
    return _time_tag(moment, zone, format_local(moment, zone))


def ago(value: Any, empty: str = "") -> Markup | str:
    """Jinja filter: a UTC time as "3 小时前" inside ``<time>`` (the full local time on hover)."""
    from webui.i18n import get_language

    moment = to_utc(value)
    if moment is None:
        return _as_written(value, empty)
    zone = _zone()
    return _time_tag(moment, zone, format_ago(moment, _now(), zone, get_language()))


def localtime_text(value: Any) -> str:
    """A UTC time in the team's zone as plain text (a title attribute, a message parameter)."""
    moment = to_utc(value)
    return format_local(moment, _zone()) if moment is not None else str(value or "")


def utc_from_local(text: str | None) -> str | None:
    """A time a person typed in the team's zone ("2026-12-01 10:00"; a date is its midnight) as the naive UTC
    time the records keep ("2026-12-01 02:00"); text that is no time is given back as typed (the app explains)."""
    if text is None or not text.strip():
        return text
    raw = text.strip().replace("/", "-").replace("T", " ")
    try:
        typed = datetime.fromisoformat(raw)
    except ValueError:
        return text
    moment = typed if typed.tzinfo is not None else typed.replace(tzinfo=_zone())
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _as_written(value: Any, empty: str) -> Markup | str:
    if value is None or value == "":
        return empty
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def init_app(app: Flask) -> None:
    """Register the ``localtime``, ``ago`` and ``localtime_text`` filters."""
    app.jinja_env.filters.update(localtime=localtime, ago=ago, localtime_text=localtime_text)

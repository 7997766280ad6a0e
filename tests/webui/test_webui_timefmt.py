"""Times in the team's zone (DOSSIER_TIMEZONE) and relative times, with a fixed clock; labels of stored codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string

from foundation.config import load_settings
from foundation.errors import ConfigError
from webui import create_app
from webui.labels import role_in_english
from webui.timefmt import format_ago, format_full, format_local, to_utc

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
#: The fixed clock: 2026-12-07 14:33:23 in Shanghai.
NOW = datetime(2026, 12, 7, 6, 33, 23, tzinfo=UTC)


def _settings(tmp_path: Path, **values: str):
    return load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            **values,
        },
        dotenv=tmp_path / "none",
    )


def test_utc_values_of_every_stored_shape():
    """ISO strings (with T or a space, Z or an offset or none) and naive datetimes are UTC; a date is no time."""
    expected = datetime(2026, 12, 6, 15, 33, 23, tzinfo=UTC)
    assert to_utc("2026-12-06T15:33:23") == expected
    assert to_utc("2026-12-06 15:33:23") == expected
    assert to_utc("2026-12-06T15:33:23Z") == expected
    assert to_utc("2026-12-06T23:33:23+08:00") == expected
    assert to_utc(datetime(2026, 12, 6, 15, 33, 23)) == expected
    assert (
        to_utc("2026-12-06") is None
        and to_utc("") is None
        and to_utc(None) is None
        and to_utc("soon") is None
    )


def test_local_time_in_the_zone_with_its_offset():
    """06:33 UTC is 14:33 in Shanghai (UTC+8) and 07:33 in Berlin in winter (UTC+1), 08:33 in summer (UTC+2)."""
    assert format_local(NOW, SHANGHAI) == "2026-12-07 14:33"
    assert format_full(NOW, SHANGHAI) == "2026-12-07 14:33:23 (UTC+08:00)"
    assert format_local(NOW, BERLIN) == "2026-12-07 07:33"
    assert format_full(datetime(2026, 7, 1, 6, 33, tzinfo=UTC), BERLIN).endswith("08:33:00 (UTC+02:00)")
    # past midnight UTC-wise, another day in Shanghai
    assert format_local(datetime(2026, 12, 6, 17, 0, tzinfo=UTC), SHANGHAI) == "2026-12-07 01:00"


@pytest.mark.parametrize(
    ("before", "zh", "en"),
    [
        (timedelta(seconds=20), "刚刚", "just now"),
        (timedelta(minutes=1, seconds=5), "1 分钟前", "a minute ago"),
        (timedelta(minutes=42), "42 分钟前", "42 minutes ago"),
        (timedelta(hours=1, minutes=2), "1 小时前", "an hour ago"),
        (timedelta(hours=3), "3 小时前", "3 hours ago"),
        (timedelta(hours=20), "昨天 18:33", "yesterday 18:33"),  # 18:33 on the 6th in Shanghai
        (timedelta(days=3), "3 天前", "3 days ago"),
        (timedelta(days=7), "7 天前", "7 days ago"),
        (timedelta(days=12), "2026-11-25", "2026-11-25"),  # beyond a week: the date
        (-timedelta(hours=5), "2026-12-07 19:33", "2026-12-07 19:33"),  # to come (an expiry): the time
    ],
)
def test_relative_times_with_a_fixed_clock(before, zh, en):
    moment = NOW - before
    assert format_ago(moment, NOW, SHANGHAI, "zh") == zh
    assert format_ago(moment, NOW, SHANGHAI, "en") == en


def test_yesterday_is_the_zones_calendar_day():
    """14:33 now in Shanghai; 13 hours ago was 01:33 the same day there (not "yesterday"), 15 hours ago was."""
    assert format_ago(NOW - timedelta(hours=13), NOW, SHANGHAI, "zh") == "13 小时前"
    assert format_ago(NOW - timedelta(hours=15), NOW, SHANGHAI, "en") == "yesterday 23:33"


def test_the_filters_render_time_elements(tmp_path):
    """``localtime`` and ``ago`` write <time datetime="UTC" title="full local time">; a date stays a date."""
    app = create_app(_settings(tmp_path), test_config={"TESTING": True, "DOSSIER_NOW": NOW})
    template = "{{ at | localtime }}|{{ at | ago }}|{{ day | localtime }}|{{ none | localtime('—') }}"
    with app.test_request_context("/?lang=en"):
        out = render_template_string(template, at="2026-12-07T03:33:23", day="2026-03-01", none=None)
    tag = '<time datetime="2026-12-07T03:33:23Z" title="2026-12-07 11:33:23 (UTC+08:00)">'
    assert out == f"{tag}2026-12-07 11:33</time>|{tag}3 hours ago</time>|2026-03-01|—"
    with app.test_request_context("/?lang=zh"):
        out = render_template_string(
            "{{ at | ago }}|{{ d | localtime }}", at=NOW - timedelta(minutes=5), d=date(2026, 1, 2)
        )
    assert ">5 分钟前</time>" in out and out.endswith("|2026-01-02")


def test_the_zone_is_a_setting(tmp_path):
    """DOSSIER_TIMEZONE=Europe/Berlin shows Berlin times; an unknown zone stops the app with a clear error."""
    app = create_app(_settings(tmp_path, DOSSIER_TIMEZONE="Europe/Berlin"), test_config={"TESTING": True})
    with app.test_request_context("/"):
        out = render_template_string("{{ at | localtime }}", at="2026-12-07T06:33:23Z")
    assert ">2026-12-07 07:33</time>" in out and "(UTC+01:00)" in out
    assert _settings(tmp_path).timezone == ZoneInfo("Asia/Shanghai")  # the default
    with pytest.raises(ConfigError) as failed:
        create_app(_settings(tmp_path, DOSSIER_TIMEZONE="Asia/Beijing"), test_config={"TESTING": True})
    assert "DOSSIER_TIMEZONE" in failed.value.text("en") and "'Asia/Beijing'" in failed.value.text("en")
    assert "不是已知的时区名" in failed.value.text("zh")


def test_times_typed_in_the_zone_are_kept_in_utc(tmp_path):
    """The activity form's "2026-12-01 10:00" is Shanghai time: kept as 02:00 UTC; text that is no time stays."""
    from webui.timefmt import utc_from_local

    app = create_app(_settings(tmp_path), test_config={"TESTING": True})
    with app.test_request_context("/"):
        assert utc_from_local("2026-12-01 10:00") == "2026-12-01 02:00:00"
        assert utc_from_local("2026/12/01") == "2026-11-30 16:00:00"  # a date: its midnight there
        assert utc_from_local("2月30日") == "2月30日" and utc_from_local("") == ""


def test_entity_roles_in_english():
    """The document's own labels: common ones by table, variants by keyword, the rare rest left as written."""
    assert role_in_english("甲方") == "Party A" and role_in_english("法定代表人") == "legal representative"
    assert (
        role_in_english("联系电话") == "phone"
        and role_in_english("合同总金额（含税）") == "total (incl. tax)"
    )
    assert role_in_english("报价日期") == "date" and role_in_english("Tel") == "Tel"
    assert role_in_english("鉴于") is None

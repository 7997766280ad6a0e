"""Saved views (``Dossier.views``): named searches per user, shared with the team or not, and ``dossier views``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dossier.app.saved_views import MAX_NAME, MAX_PARAMS, MAX_VIEWS
from foundation.errors import DossierError, Forbidden, NotFound
from tests._bulk_home import build, principal


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("views"), {})
    yield built
    built["dossier"].close()


def test_a_view_keeps_the_search_parameters_and_drops_paging(home):
    """Saved parameters are the search page's (query, filters, sort), normalised; page and limit are not kept."""
    d = home["dossier"]
    view = d.views.save(
        principal(home, "sales1"), "  季度 报告 ", "?q=季度报告&type=合同&sort=date_desc&page=3&limit=5&x=1"
    )
    assert view["name"] == "季度 报告"
    assert view["params"] == "q=%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A&type=%E5%90%88%E5%90%8C&sort=date_desc"
    assert view["mine"] and not view["shared"]
    assert d.views.get(view["id"], principal(home, "sales1"))["params"] == view["params"]


def test_a_search_that_means_nothing_is_refused_as_the_search_page_refuses_it(home):
    """An unknown document type or an impossible date is a 400 naming the value, nothing is stored."""
    d = home["dossier"]
    sales1 = principal(home, "sales1")
    before = len(d.views.list(sales1))
    for params in ("type=nosuchtype", "from=2024-02-30", "customer_id=abc"):
        with pytest.raises(DossierError) as err:
            d.views.save(sales1, f"坏的 {params}", params)
        assert err.value.status == 400
    assert len(d.views.list(sales1)) == before


def test_over_long_parameters_are_refused_whatever_their_shape(home):
    """A view's search may not exceed MAX_PARAMS characters: a long query, many repeated filters, or a huge raw
    string (refused before it is parsed) all get the same 400 naming the limit; nothing is stored."""
    d = home["dossier"]
    sales1 = principal(home, "sales1")
    before = len(d.views.list(sales1))
    for params in (
        "q=" + "合同" * MAX_PARAMS,
        "&".join(["tag=重点"] * MAX_PARAMS),
        "x=" + "a" * (5 * MAX_PARAMS),
    ):
        with pytest.raises(DossierError) as err:
            d.views.save(sales1, "太长", params)
        assert err.value.status == 400 and str(MAX_PARAMS) in err.value.text("en")
    assert len(d.views.list(sales1)) == before


def test_names_are_required_unique_per_user_and_limited(home):
    """Empty and over-long names are refused; a name taken by the same user is 409, by another user fine."""
    d = home["dossier"]
    sales1, sales2 = principal(home, "sales1"), principal(home, "sales2")
    with pytest.raises(DossierError) as err:
        d.views.save(sales1, "   ", "q=x")
    assert err.value.status == 400 and "名字" in err.value.text("zh")
    with pytest.raises(DossierError) as err:
        d.views.save(sales1, "长" * (MAX_NAME + 1), "q=x")
    assert err.value.status == 400 and str(MAX_NAME) in err.value.text("en")
    d.views.save(sales1, "重复", "q=a")
    with pytest.raises(DossierError) as err:
        d.views.save(sales1, "重复", "q=b")
    assert err.value.status == 409 and "重复" in err.value.text("en")
    assert d.views.save(sales2, "重复", "q=c")["owner"] == "sales2"


def test_a_user_keeps_at_most_max_views(home, monkeypatch):
    """Past the per-user limit a new view is refused with the limit in the message."""
    from dossier.app import saved_views

    d = home["dossier"]
    finance1 = principal(home, "finance1")
    monkeypatch.setattr(saved_views, "MAX_VIEWS", 2)
    d.views.save(finance1, "一", "q=a")
    d.views.save(finance1, "二", "q=b")
    with pytest.raises(DossierError) as err:
        d.views.save(finance1, "三", "q=c")
    assert err.value.status == 400 and "2" in err.value.text("zh")
    assert MAX_VIEWS >= 50


def test_shared_views_are_listed_for_everyone_but_only_the_owner_or_an_admin_changes_them(home):
    """A shared view shows in every user's list; others may open it, not rename, unshare or delete it."""
    d = home["dossier"]
    owner, other, admin = principal(home, "manager1"), principal(home, "viewer1"), principal(home, "admin")
    view = d.views.save(owner, "团队合同", "q=季度报告", shared=True)
    private = d.views.save(owner, "我自己的", "q=季度报告")
    listed = {v["id"]: v for v in d.views.list(other)}
    assert view["id"] in listed and private["id"] not in listed
    assert listed[view["id"]]["owner"] == "manager1" and not listed[view["id"]]["may_change"]
    with pytest.raises(NotFound):
        d.views.get(private["id"], other)
    for attempt in (
        lambda: d.views.update(view["id"], other, name="改名"),
        lambda: d.views.update(view["id"], other, shared=False),
        lambda: d.views.delete(view["id"], other),
    ):
        with pytest.raises(Forbidden):
            attempt()
    with pytest.raises(NotFound):
        d.views.delete(private["id"], other)
    assert d.views.update(view["id"], admin, name="团队合同（改）")["name"] == "团队合同（改）"
    assert d.views.update(view["id"], owner, shared=False)["shared"] is False
    assert view["id"] not in {v["id"] for v in d.views.list(other)}
    assert d.views.delete(view["id"], owner) == {"deleted": view["id"]}
    with pytest.raises(NotFound):
        d.views.get(view["id"], owner)


def test_renaming_onto_another_own_view_is_refused(home):
    """Renaming keeps names unique per owner."""
    d = home["dossier"]
    sales2 = principal(home, "sales2")
    d.views.save(sales2, "甲", "q=a")
    second = d.views.save(sales2, "乙", "q=b")
    with pytest.raises(DossierError) as err:
        d.views.update(second["id"], sales2, name="甲")
    assert err.value.status == 409


def test_cli_views_list_save_share_delete(home):
    """``dossier views save|list|share|delete --as USER`` work on the user's views; errors exit non-zero."""
    from dossier.cli import cli

    runner = CliRunner()
    env = {**home["env"]}
    base = ["views"]

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, [*base, *args], env=env, catch_exceptions=False)

    saved = run("save", "命令行视图", "--params", "q=季度报告&sort=date_asc", "--as", "sales1")
    assert saved.exit_code == 0, saved.output
    view_id = int(saved.output.split(":", 1)[1].split()[0])
    listed = json.loads(run("list", "--as", "sales1", "--json").output)
    mine = next(v for v in listed["views"] if v["id"] == view_id)
    assert mine["params"].endswith("sort=date_asc") and not mine["shared"]
    assert run("share", str(view_id), "--as", "sales1").exit_code == 0
    assert "命令行视图" in run("list", "--as", "viewer1").output
    refused = runner.invoke(cli, [*base, "delete", str(view_id), "--as", "viewer1"], env=env)
    assert refused.exit_code != 0
    assert run("delete", str(view_id), "--as", "sales1").exit_code == 0
    assert "命令行视图" not in run("list", "--as", "sales1").output
    bad = runner.invoke(cli, [*base, "save", "坏", "--params", "type=nosuch", "--as", "sales1"], env=env)
    assert bad.exit_code != 0

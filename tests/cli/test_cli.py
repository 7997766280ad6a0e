"""The `dossier` command through click's runner (the acceptance tests run the real process)."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from dossier.cli import cli
from tests.conftest import DEV, TANTIVY

#: A Redis nobody answers: commands then process files in-process (the queue has its own tests).
NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


def _run(home, *args, input=None):
    result = CliRunner(env=NO_REDIS).invoke(
        cli, ["--home", str(home), *args], input=input, catch_exceptions=False
    )
    return result


def test_commands_before_init_say_to_run_init(tmp_path):
    """Any command on an uninitialised home fails with one line telling the user to run `dossier init`."""
    result = _run(tmp_path, "status")
    assert result.exit_code == 1
    assert "dossier init" in result.output and "Traceback" not in result.output


def test_init_prints_the_admin_password_once_and_it_works(tmp_path):
    """`init` generates and prints a password the first time, not the second; that password logs in."""
    first = _run(tmp_path, "init")
    assert first.exit_code == 0 and "password:" in first.output
    password = first.output.split("password:")[1].split()[0]
    again = _run(tmp_path, "init")
    assert "password:" not in again.output
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(tmp_path)}, dotenv=tmp_path / "none"))
    assert d.accounts.authenticate("admin", password) is not None
    assert d.accounts.authenticate("admin", password + "x") is None


def test_set_password_replaces_a_lost_admin_password(tmp_path):
    """`users set-password admin` sets a new password; too short ones are refused with a reason."""
    _run(tmp_path, "init")
    short = _run(tmp_path, "users", "set-password", "admin", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "8" in short.output
    ok = _run(tmp_path, "users", "set-password", "admin", "--password-stdin", input="新的密码-青松-2024\n")
    assert ok.exit_code == 0
    listed = _run(tmp_path, "users", "list")
    assert listed.output.startswith("admin") and "admin" in listed.output.split()[1]
    unknown = _run(tmp_path, "users", "set-password", "nobody", "--password-stdin", input="whatever-123\n")
    assert unknown.exit_code == 1 and "nobody" in unknown.output


def test_ingest_search_show_json_contracts(tmp_path):
    """ingest --json, search --json and show --json have the BRIEF §3 shapes; filters by type work."""
    _run(tmp_path, "init")
    quotes = sorted((DEV / "quotes").glob("*.docx"))[:2]
    summary = json.loads(
        _run(tmp_path, "ingest", *map(str, quotes), "--wait", "--json", "--tag", "测试").output
    )
    assert summary["ingested"] == 2 and summary["failed"] == [] and summary["duplicates"] == 0
    assert all({"id", "file"} <= set(d) for d in summary["documents"])
    result = json.loads(
        _run(tmp_path, "search", "报价", "--json", "--type", "报价单", "--tag", "测试").output
    )
    assert result["total"] == 2
    assert set(result["hits"][0]) == {
        "id",
        "title",
        "display_title",  # issue 17: the title to show (type · customer · number · date for a generic one)
        "title_parts",
        "filename",
        "customer",
        "customers",
        "doc_type",
        "date",
        "score",
        "snippet",
        "version",  # 0: the current text matched (issue 15: an old version's hit says its number)
        "activity",  # 0: a document (issue 16: an activity's or comment's hit has its id here)
    }
    assert {h["filename"] for h in result["hits"]} == {q.name for q in quotes}
    none = json.loads(_run(tmp_path, "search", "报价", "--json", "--type", "invoice").output)
    assert none["total"] == 0
    shown = json.loads(_run(tmp_path, "show", str(result["hits"][0]["id"]), "--json").output)
    assert shown["pages"] and shown["versions"][0]["sha256"] and shown["doc_type"] == "quote"


def test_unknown_type_and_bad_query_fail_with_one_line(tmp_path):
    """A misspelt type or a broken query ends with a one-line error, not a traceback."""
    _run(tmp_path, "init")
    bad_type = _run(tmp_path, "search", "报价", "--type", "合约书")
    assert bad_type.exit_code == 1 and "未知的文档类型" in bad_type.output
    bad_query = _run(tmp_path, "search", "customer:")
    assert bad_query.exit_code == 1 and "Traceback" not in bad_query.output


def test_human_output_shows_hits_and_failures(tmp_path):
    """Without --json, ingest lists failures with reasons and search prints the hit count in Chinese."""
    _run(tmp_path, "init")
    out = _run(
        tmp_path, "ingest", str(DEV / "bad" / "empty.pdf"), str(sorted((DEV / "quotes").glob("*.docx"))[0])
    )
    assert "失败 failed: 1" in out.output and "empty.pdf" in out.output
    found = _run(tmp_path, "search", "报价")
    assert found.output.startswith("共 1 条结果")


def test_search_words_may_be_separate_arguments_including_exclusions(tmp_path):
    """`dossier search 报价 -草稿` works like `dossier search "报价 -草稿"`: words ANDed, -word excluded."""
    _run(tmp_path, "init")
    quotes = sorted((DEV / "quotes").glob("*.docx"))[:2]
    _run(tmp_path, "ingest", *map(str, quotes))
    together = json.loads(_run(tmp_path, "search", "报价 合计", "--json").output)
    apart = json.loads(_run(tmp_path, "search", "报价", "合计", "--json").output)
    assert together["total"] == apart["total"] == 2
    excluded = json.loads(_run(tmp_path, "search", "报价", "-合计", "--json").output)
    assert excluded["total"] == 0


def test_watch_once_takes_the_inbox_and_prints_a_report(tmp_path):
    """`dossier watch DIR --once` takes every file, processes it, moves it to .done/ and prints counts."""
    import shutil

    _run(tmp_path / "home", "init")
    inbox = tmp_path / "inbox"
    (inbox / "宸宇集团" / "合同").mkdir(parents=True)
    source = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
    shutil.copy(source, inbox / "宸宇集团" / "合同" / source.name)
    result = _run(tmp_path / "home", "watch", str(inbox), "--once")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["taken"] == 1 and report["done"] == 1 and report["failed"] == 0
    assert (inbox / ".done" / "宸宇集团" / "合同" / source.name).is_file()
    found = json.loads(_run(tmp_path / "home", "search", "customer:宸宇集团", "type:合同", "--json").output)
    assert found["total"] == 1


def test_empty_files_fail_as_empty_never_as_duplicates(tmp_path):
    """`dossier ingest` of empty files: each fails as empty (JSON and text agree), however often it is offered."""
    _run(tmp_path / "home", "init")
    for name in ("a.txt", "b.pdf"):
        (tmp_path / name).write_bytes(b"")
    for _ in range(2):
        summary = json.loads(
            _run(
                tmp_path / "home", "ingest", str(tmp_path / "a.txt"), str(tmp_path / "b.pdf"), "--json"
            ).output
        )
        assert summary["duplicates"] == 0 and summary["ingested"] == 0
        assert [f["error"] for f in summary["failed"]] == ["文件为空 / empty file"] * 2
    text = _run(tmp_path / "home", "ingest", str(tmp_path / "a.txt")).output
    assert "重复 duplicates: 0" in text and "失败 failed: 1" in text and "文件为空 / empty file" in text
    status = json.loads(_run(tmp_path / "home", "status", str(summary["batch"]), "--json").output)
    assert (status["files"]["failed"], status["files"]["duplicate"]) == (2, 0) and len(
        status["failures"]
    ) == 2


def test_status_names_an_unknown_batch(tmp_path):
    _run(tmp_path, "init")
    result = _run(tmp_path, "status", "999")
    assert result.exit_code == 1 and "999" in result.output


@pytest.fixture(params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)])
def search_env(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The CLI's environment for each search backend: the embedded index, and the OpenSearch node when there is one."""
    if request.param == "sqlite":
        yield dict(NO_REDIS)
        return
    if request.param == "tantivy":
        yield {**NO_REDIS, "DOSSIER_OPENSEARCH_URL": "tantivy"}
        return
    from tests import _opensearch

    url, alias = _opensearch.cluster_url(), f"dossier-cli-{uuid.uuid4().hex[:8]}"
    yield {**NO_REDIS, "DOSSIER_OPENSEARCH_URL": url, "DOSSIER_OPENSEARCH_INDEX": alias}
    _opensearch.drop(url, alias)


def test_search_refuses_impossible_reversed_empty_and_long_requests_with_a_reason(tmp_path, search_env):
    """`dossier search` (and `export`) refuse what the web refuses, each with a one-line reason and exit 1:
    impossible dates, a reversed range, punctuation only, more than MAX_QUERY_CHARS characters."""
    from index import MAX_QUERY_CHARS

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner(env=search_env).invoke(cli, ["--home", str(tmp_path), *args], catch_exceptions=False)

    assert run("init").exit_code == 0
    cases = {
        ("search", "合同", "--from", "2024-13-45"): "日期无效",
        ("search", "合同", "--to", "2023-02-29"): "Not a valid date",
        ("search", "合同", "--from", "2024-05-01", "--to", "2024-03-01"): "开始日期晚于结束日期",
        ("search", "！！！"): "只有标点",
        ("search", "?", "--json"): "punctuation",
        ("search", "报价" * 1000): f"at most {MAX_QUERY_CHARS}",
        ("export", "报价" * 1000, "--format", "csv", "-o", str(tmp_path / "x.csv")): "查询过长",
        (
            "export",
            "合同",
            "--from",
            "2024-05-01",
            "--to",
            "2024-03-01",
            "--format",
            "csv",
            "-o",
            str(tmp_path / "y.csv"),
        ): "start date is after the end date",
    }
    for args, reason in cases.items():
        result = run(*args)
        assert result.exit_code == 1 and reason in result.output, (args[:2], result.output)
        assert "Traceback" not in result.output and "语法" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert run("search", "合同", "--from", "2024-03", "--to", "2024-03-31", "--json").exit_code == 0


def test_search_finds_a_phone_number_typed_with_spaces(tmp_path, search_env):
    """`dossier search "021 6149 8137"` (and its other spellings) finds the document holding 021-61498137."""

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner(env=search_env).invoke(
            cli, ["--home", str(tmp_path / "home"), *args], catch_exceptions=False
        )

    run("init")
    (tmp_path / "报价单.txt").write_text(
        "报价单\n上海云启信息技术有限公司\n联系电话：021-61498137\n手机：138-1234-5678\n", encoding="utf-8"
    )
    (tmp_path / "纪要.txt").write_text("会议纪要\n区号 021，分机 6149，房间 8137。\n", encoding="utf-8")
    summary = json.loads(
        run("ingest", str(tmp_path / "报价单.txt"), str(tmp_path / "纪要.txt"), "--json").output
    )
    quote = next(d["id"] for d in summary["documents"] if d["file"].endswith("报价单.txt"))
    for query in (
        "021 6149 8137",
        "0216149 8137",
        "(021) 6149-8137",
        "+86 21 6149 8137",
        "138 1234 5678",
        "+86 138 1234 5678",
    ):
        found = json.loads(run("search", query, "--json").output)
        assert [h["id"] for h in found["hits"]] == [quote], query
        assert "<mark>" in found["hits"][0]["snippet"]
    apart = json.loads(run("search", "021", "6149", "8137", "--json").output)  # separate arguments: one query
    assert [h["id"] for h in apart["hits"]] == [quote]

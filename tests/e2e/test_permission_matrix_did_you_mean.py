"""Did you mean never names what a user may not read: every role, every entry point, each backend.

Each probe is a mistyped query whose correction lives only in documents of one kind: a customer whose
documents are all confidential (澄明集团, owned by ``sales2``), a word only in that customer's
confidential document (审计报告, Zephyrine), a word only in a finance document (Quarterly), and a
customer with internal and public documents (光华物流).  Whether a user may read those documents is
worked out here from the rules (:func:`tests._typos_home.may_read`), not from the code under test; a
user who may gets the correction, any other user's answer holds none of the hidden words — in the
API, on the search page and in ``dossier search --json --as``.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests import _typos_home
from tests._typos_home import DOCS, USERS, may_read
from tests.conftest import TANTIVY, backend_home, login_client

#: typed -> (the correction, the words that must not show to a user who may not read the source, source docs)
PROBES = {
    "澄明集圑": ("澄明集团", ("澄明集团", "上海澄明集团股份有限公司"), ("c-secret",)),
    "审汁报告": ("审计报告", ("审计报告",), ("c-secret",)),
    "Zephyrin": ("Zephyrine", ("zephyrine",), ("c-secret",)),
    "Quartrly": ("Quarterly", ("quarterly",), ("finance",)),
    "光华物留": ("光华物流", ("光华物流",), ("g-quote", "g-contract")),
}


def _allowed(username: str, sources: tuple[str, ...]) -> bool:
    return any(may_read(username, DOCS[key][0], DOCS[key][1]) for key in sources)


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "typos-matrix", tmp_path_factory, _typos_home.build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _check(suggestions: list[dict], username: str, typed: str) -> None:
    wanted, hidden, sources = PROBES[typed]
    text = json.dumps(suggestions, ensure_ascii=False).casefold()
    if _allowed(username, sources):
        assert wanted in [s["query"] for s in suggestions], (username, typed, suggestions)
    else:
        assert suggestions == [], (username, typed, suggestions)
        assert not any(word.casefold() in text for word in hidden)


def test_every_probe_is_readable_by_someone_and_hidden_from_someone():
    """The probes are meaningful: each correction is allowed to some users and refused to others."""
    for _typed, (_wanted, _hidden, sources) in PROBES.items():
        allowed = {u for u in USERS if _allowed(u, sources)}
        assert (allowed and allowed != set(USERS)) or sources[0].startswith("g-")


@pytest.mark.parametrize("username", list(USERS))
def test_api_suggestions_follow_the_reading_rules(home, app, username):
    """/api/search: a correction only for a user who may read a document it finds; no hidden word otherwise."""
    client = login_client(app, username, _typos_home.PASSWORD)
    for typed in PROBES:
        body = client.get("/api/search", query_string={"q": typed}).get_json()
        assert body["total"] == 0 and body["hits"] == []
        _check(body["suggestions"], username, typed)


@pytest.mark.parametrize("username", ["sales1", "viewer1", "sales2"])
def test_search_page_shows_no_hidden_word(home, app, username):
    """The search page's did-you-mean line names no customer or word of a document the user may not read."""
    client = login_client(app, username, _typos_home.PASSWORD)
    for typed, (wanted, hidden, sources) in PROBES.items():
        html = client.get("/", query_string={"q": typed}).get_data(as_text=True)
        if _allowed(username, sources):
            assert "did-you-mean" in html and wanted in html
        else:
            assert "did-you-mean" not in html
            # The query itself is echoed; nothing beyond it from the hidden documents.
            assert not any(word.casefold() in html.casefold() for word in hidden if word != typed)


@pytest.mark.parametrize("username", ["sales1", "sales2", "finance1"])
def test_cli_json_as_a_user(home, username):
    """`dossier search --json --as USER` carries the same rule in its "suggestions"."""
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    for typed in PROBES:
        result = runner.invoke(cli, ["search", typed, "--json", "--as", username], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        _check(json.loads(result.output)["suggestions"], username, typed)

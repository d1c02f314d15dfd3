"""`civitai-orch tags`: additions before removals, and a failure that says what it left.

``--clear --add x`` removed every tag first; when adding x then failed, the error did
not say the tags were gone, nor which they had been. Against respx (no network).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from civitai_app_sdk._escape import harmless, printable
from civitai_app_sdk.cli._exit import CliError, ExitCode
from civitai_app_sdk.cli._tag_changes import TagChanges
from tests.cli.conftest import API, Run
from tests.cli.pasting import BASH, parsed

TAGS = f"{API}/v2/consumer/workflows/wf-1/tags"
MAX_TAGS = 10


class FakeTags:
    """One workflow's tags on a respx router (adding a present tag changes nothing, as
    on the API); ``refuse`` names the changes answered 404, ``interrupt`` those that
    meet Ctrl-C."""

    def __init__(self, mock: respx.MockRouter, tags: list[str]) -> None:
        self.tags = list(tags)
        self.refuse: set[str] = set()
        self.interrupt: set[str] = set()
        self.reads = 0
        self.failing_read = 0  # the read answered 500 (1 = the first), 0 for none
        self.interrupted_read = 0  # the read that meets Ctrl-C (1 = the first), 0 for none
        self.log: list[str] = []
        mock.get(f"{API}/v2/consumer/workflows/wf-1").mock(side_effect=self._get)
        mock.post(TAGS).mock(side_effect=self._add)
        mock.delete(TAGS).mock(side_effect=self._clear)
        mock.delete(url__startswith=f"{TAGS}/").mock(side_effect=self._remove)

    def _answer(self, step: str, change: Any) -> httpx.Response:
        self.log.append(step)
        if step in self.interrupt:
            raise KeyboardInterrupt
        if step in self.refuse:
            return httpx.Response(404, json={"title": "Not Found", "status": 404})
        change()
        return httpx.Response(204)

    def _get(self, request: httpx.Request) -> httpx.Response:
        self.reads += 1
        if self.reads == self.interrupted_read:
            raise KeyboardInterrupt
        if self.reads == self.failing_read:
            return httpx.Response(500)
        return httpx.Response(200, json={"id": "wf-1", "status": "succeeded", "tags": self.tags})

    def _add(self, request: httpx.Request) -> httpx.Response:
        tag = json.loads(request.content)
        if tag not in self.tags and len(self.tags) >= MAX_TAGS:  # as the API (and serve-local)
            self.log.append(f"add {tag}")
            return httpx.Response(400, json={"errors": {"$": ["At most 10 tags are allowed."]}})
        return self._answer(f"add {tag}", lambda: tag in self.tags or self.tags.append(tag))

    def _remove(self, request: httpx.Request) -> httpx.Response:
        tag = request.url.path.rsplit("/", 1)[1]
        return self._answer(f"remove {tag}", lambda: self.tags.remove(tag))

    def _clear(self, request: httpx.Request) -> httpx.Response:
        return self._answer("clear", self.tags.clear)


@pytest.fixture
def server(authed: Run) -> Iterator[FakeTags]:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeTags(mock, ["a", "b"])


def test_clear_and_add_adds_first_then_removes_the_others(authed: Run, server: FakeTags) -> None:
    result = authed("tags", "wf-1", "--clear", "--add", "x", "--add", "a", "--json")
    assert result.exit_code == 0, result.stderr
    assert server.log == ["add x", "add a", "remove b"]
    assert json.loads(result.stdout) == {"id": "wf-1", "tags": ["a", "x"]}


def test_a_failed_add_after_clear_loses_no_tag(authed: Run, server: FakeTags) -> None:
    """The reported case: the clear went through, the add failed, the tags were lost and
    the user was told only that the add failed."""
    server.refuse.add("add x")
    result = authed("tags", "wf-1", "--clear", "--add", "x")
    assert result.exit_code == 6
    assert server.tags == ["a", "b"]  # nothing removed: the add comes first
    assert "could not add tag x: not found" in result.stderr
    assert "Done before that: nothing was changed" in result.stderr
    assert "Not done: add x; remove a, b" in result.stderr
    assert "its tags were a, b (restore: civitai-orch tags wf-1 --clear --add=a --add=b)" in (
        result.stderr
    )


def test_a_failed_removal_says_what_was_done_and_the_tags_before(
    authed: Run, server: FakeTags
) -> None:
    server.refuse.add("remove b")
    result = authed("tags", "wf-1", "--clear", "--add", "x", "--json")
    assert result.exit_code == 6
    assert server.tags == ["b", "x"]
    document = json.loads(result.stdout)
    assert document["tagsBefore"] == ["a", "b"]
    assert document["added"] == ["x"]
    assert document["removed"] == ["a"]
    assert document["notAdded"] == []
    assert document["notRemoved"] == ["b"]
    assert document["failed"] == "remove tag b"
    assert document["error"]["exitCode"] == 6
    message = document["error"]["message"]
    assert "Done before that: added x; removed a" in message
    assert "its tags were a, b" in message


def test_clear_alone_is_one_request_and_a_failure_says_nothing_changed(
    authed: Run, server: FakeTags
) -> None:
    server.refuse.add("clear")
    result = authed("tags", "wf-1", "--clear", "--json")
    assert result.exit_code == 6
    assert server.log == ["clear"]
    document = json.loads(result.stdout)
    assert (document["removed"], document["notRemoved"]) == ([], ["a", "b"])
    assert "could not remove every tag" in document["error"]["message"]


def test_a_tag_both_added_and_removed_stays(authed: Run, server: FakeTags) -> None:
    result = authed("tags", "wf-1", "--remove", "a", "--add", "a", "--remove", "b", "--json")
    assert result.exit_code == 0, result.stderr
    assert server.log == ["add a", "remove b"]
    assert json.loads(result.stdout)["tags"] == ["a"]


def test_showing_tags_changes_nothing(authed: Run, server: FakeTags) -> None:
    result = authed("tags", "wf-1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a, b\n"
    assert server.log == []


def test_ctrl_c_part_way_says_what_was_done(authed: Run, server: FakeTags) -> None:
    server.interrupt.add("remove b")
    result = authed("tags", "wf-1", "--remove", "a", "--remove", "b", "--json")
    assert result.exit_code == 130
    document = json.loads(result.stdout)
    assert (document["removed"], document["notRemoved"]) == (["a"], ["b"])
    assert document["error"]["message"].startswith("could not remove tag b: interrupted.")


def test_changes_made_but_not_read_back_say_so(
    authed: Run, server: FakeTags, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    server.failing_read = 2
    result = authed("tags", "wf-1", "--add", "x")
    assert result.exit_code == 8
    assert "the tags were changed (added x), but reading them back failed" in result.stderr
    assert server.tags == ["a", "b", "x"]


@pytest.mark.parametrize("argv", [["--remove", "t0", "--add", "x"], ["--clear", "--add", "x"]])
def test_a_full_workflow_can_swap_a_tag(authed: Run, argv: list[str]) -> None:
    """A workflow holds at most 10 tags: adding first refused every swap on a full one
    (`--remove t0 --add x`, `--clear --add x`), which worked when removals came first."""
    full = [f"t{n}" for n in range(MAX_TAGS)]
    with respx.mock(assert_all_called=False) as mock:
        server = FakeTags(mock, full)
        result = authed("tags", "wf-1", *argv, "--json")
    assert result.exit_code == 0, result.stderr
    assert server.log[:2] == ["remove t0", "add x"]  # room made only as needed
    kept = full[1:] if argv[0] == "--remove" else []
    assert json.loads(result.stdout)["tags"] == [*kept, "x"]


def test_room_is_made_only_when_the_workflow_is_full(authed: Run) -> None:
    with respx.mock(assert_all_called=False) as mock:
        server = FakeTags(mock, [f"t{n}" for n in range(MAX_TAGS - 1)])
        result = authed("tags", "wf-1", "--remove", "t0", "--remove", "t1", "--add", "x")
        assert result.exit_code == 0, result.stderr
        assert server.log == ["add x", "remove t0", "remove t1"]
        assert authed("tags", "wf-1", "--add", "t2", "--add", "y", "--add", "z").exit_code == 0
        assert server.log[3:] == ["add t2", "add y", "add z"]  # t2 was there: no room needed


def test_ctrl_c_while_reading_back_says_the_tags_were_changed(
    authed: Run, server: FakeTags
) -> None:
    """Every change was made when Ctrl-C came: a bare "interrupted" let the user think
    none was, and the --json document said nothing of them."""
    server.interrupted_read = 2
    result = authed("tags", "wf-1", "--add", "x", "--json")
    assert result.exit_code == 130
    assert server.tags == ["a", "b", "x"]
    document = json.loads(result.stdout)
    assert (document["added"], document["notAdded"]) == (["x"], [])
    assert document["error"]["message"].startswith("the tags were changed (added x), but ")


def test_a_tag_the_api_would_refuse_as_too_long_is_refused_before_any_change(
    authed: Run, server: FakeTags
) -> None:
    """`--add ok --add <201 characters>` added ok, then met the API's refusal."""
    result = authed("tags", "wf-1", "--add", "ok", "--add", "L" * 201, "--json")
    assert result.exit_code == 2
    assert server.log == []
    assert "has 201 characters; the API takes at most 200" in result.stderr
    assert json.loads(result.stdout)["error"]["exitCode"] == 2
    assert authed("tags", "wf-1", "--add", "L" * 200).exit_code == 0


def test_more_tags_than_a_workflow_holds_are_refused_before_any_change(
    authed: Run, server: FakeTags
) -> None:
    """Eleven tags once made: the first additions went, then the API refused the 11th."""
    new = [arg for n in range(MAX_TAGS - 1) for arg in ("--add", f"n{n}")]
    result = authed("tags", "wf-1", *new)
    assert result.exit_code == 2
    assert server.log == []
    assert "would have 11 tags, and holds at most 10" in result.stderr
    assert "nothing was changed" in result.stderr
    assert authed("tags", "wf-1", "--remove", "a", *new).exit_code == 0  # ten: fine
    assert authed("tags", "wf-1", "--add", "b").exit_code == 0  # present: nothing added


@pytest.mark.parametrize(
    ("argv", "meant", "log"),
    [
        (["--add", "--json"], ["--add=--json"], ["add --json"]),
        (
            ["--add", "x", "--remove", "--clear"],
            ["--add", "x", "--remove=--clear"],
            ["add x", "remove --clear"],
        ),
        (["--add", "-h"], ["--add=-h"], ["add -h"]),
    ],
)
def test_an_option_name_after_add_or_remove_is_a_forgotten_tag(
    authed: Run, server: FakeTags, argv: list[str], meant: list[str], log: list[str]
) -> None:
    """`tags ID --add --json` (the tag forgotten) added a tag named `--json`."""
    server.tags.append("--clear")
    result = authed("tags", "wf-1", *argv)
    assert result.exit_code == 2
    assert server.log == []
    name = argv[-1]
    assert f"needs a TAG, not {name}; for a tag named {name}, write {meant[-1]}" in result.stderr
    assert authed("tags", "wf-1", *meant).exit_code == 0
    assert server.log == log


ODD_TAGS = st.sampled_from(["-x", "--json", "-", "--", "-h", "--add", "a b", "it's", "$(id)", "é✓"])
WORKFLOW_IDS = st.one_of(st.sampled_from(["wf-1", "-wf"]), st.text(min_size=1)).filter(
    lambda text: text.strip(".") and "\0" not in text and all(map(harmless, text))
)
"""Ids ``tags`` accepts, shown as they are (the restore command quotes them)."""


def restore_command(workflow_id: str, before: list[str]) -> str:
    """The restore command as the terminal shows it, in the failure of a ``tags`` change."""
    changes = TagChanges(workflow_id, before, ["new"], [], clear_all=False)
    with pytest.raises(CliError) as failure:
        changes.apply(add=_refused, remove=_refused, remove_all=_refused)
    shown = printable(failure.value.format_message())
    start = shown.index(printable(f"Workflow {workflow_id}: "))
    _, _, restore = shown[start:].partition(" (restore: ")
    assert restore.endswith(")")
    return restore[:-1]


def _refused(*args: str) -> None:
    raise CliError("refused", ExitCode.NOT_FOUND)


def _restores(workflow_id: str, before: list[str]) -> None:
    params = parsed(restore_command(workflow_id, before))
    assert params["workflow_id"] == workflow_id
    assert list(params["added"]) == before
    assert (params["removed"], params["clear"]) == ((), True)
    assert (params["as_json"], params["json_requested"]) == (False, False)


@settings(max_examples=150)
@given(
    workflow_id=WORKFLOW_IDS,
    before=st.lists(st.one_of(ODD_TAGS, st.text().filter(lambda t: all(map(harmless, t))))),
)
@example(workflow_id="wf-1", before=["--json"])
@example(workflow_id="-wf", before=["a"])
def test_the_restore_command_pasted_gives_back_the_tags_before(
    workflow_id: str, before: list[str]
) -> None:
    """Split by shlex and parsed by the CLI itself, the printed command names exactly the
    tags before: `--add --json` asked the root group for JSON, and an id starting with
    `-` was an unknown option."""
    _restores(workflow_id, before)


@pytest.mark.skipif(BASH is None, reason="bash reads $'...'")
@settings(max_examples=60)
@given(
    workflow_id=WORKFLOW_IDS,
    before=st.lists(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"))),
)
@example(workflow_id="wf-1", before=["line\nbreak", "\x1b[31mred", "tab\there", "bidi\u202e"])
def test_a_restore_command_of_tags_a_terminal_would_act_on_still_restores_them(
    workflow_id: str, before: list[str]
) -> None:
    """The message is escaped for the terminal: `'a\\nb'` was shown as `'a\\\\nb'`, which
    restored a tag with a backslash. Such tags are written `$'a\\x0ab'` (bash, zsh, ksh)."""
    _restores(workflow_id, before)


@pytest.mark.parametrize("odd", ["..", ".", ""])
def test_a_held_tag_no_path_can_name_is_refused_before_any_change(authed: Run, odd: str) -> None:
    """`--clear --add x` on a workflow holding a tag such as `..` (set elsewhere) added
    x, then stopped with "invalid argument" (exit 2) at removing `..` one by one: no
    URL path can name it. Now it is refused before any change, naming the way out;
    `--clear` alone (one request for every tag) still works."""
    with respx.mock(assert_all_called=False) as mock:
        server = FakeTags(mock, [odd, "b"])
        result = authed("tags", "wf-1", "--clear", "--add", "x", "--json")
        assert result.exit_code == 2
        assert server.log == []
        message = json.loads(result.stdout)["error"]["message"]
        assert "nothing was changed" in message
        assert "--clear" in message
        assert authed("tags", "wf-1", "--clear").exit_code == 0
        assert server.log == ["clear"]

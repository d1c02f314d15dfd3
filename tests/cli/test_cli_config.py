"""Settings: ./.env read by python-dotenv, flag > environment > .env > config file, and
a .env URL that never takes a token from elsewhere (issue 13.3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.cli._config import (
    ConfigError,
    config_dir,
    load_settings,
    parse_retries,
    read_dotenv,
    read_small_text,
)
from civitai_app_sdk.orchestrator import DEFAULT_ORCHESTRATOR_BASE_URL
from tests.cli.conftest import Run


def test_dotenv_forms(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# comment\n\n"
        "A=plain value # trailing comment\n"
        "export B='single # kept $X'\n"
        'C="line\\nbreak \\"q\\""\n'
        "D=\n"
        "E=a=b=c\n"
        'F="first\nsecond"\n'
    )
    warnings: list[str] = []
    assert read_dotenv(path, on_warning=warnings.append) == {
        "A": "plain value",
        "B": "single # kept $X",
        "C": 'line\nbreak "q"',
        "D": "",
        "E": "a=b=c",
        "F": "first\nsecond",
    }
    assert warnings == []


def test_dotenv_lines_it_cannot_read_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("just some words\nCIVITAI_API_TOKEN=t1\n=novalue\nNOEQUALS\n")
    warnings: list[str] = []
    assert read_dotenv(path, on_warning=warnings.append) == {"CIVITAI_API_TOKEN": "t1"}
    assert [w.split(" line ")[1].split(" ")[0] for w in warnings] == ["1", "3"]


def test_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({"api_url": "https://file.test/"}))
    env = {"CIVITAI_CONFIG_DIR": str(cfg)}
    assert load_settings(environ=env, cwd=tmp_path).api_url == "https://file.test"
    (tmp_path / ".env").write_text("CIVITAI_API_URL=https://dotenv.test\nCIVITAI_API_TOKEN=t1\n")
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == ("https://dotenv.test", "t1", ".env")
    env |= {"CIVITAI_API_URL": "https://env.test", "CIVITAI_API_TOKEN": "t2"}
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == ("https://env.test", "t2", "environment")
    s = load_settings(token="t3", api_url="https://flag.test", environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == ("https://flag.test", "t3", "flag")
    assert "t3" not in repr(s)


@pytest.mark.parametrize("token_from", ["environment", "flag", "login"])
def test_a_dotenv_url_never_takes_a_token_from_elsewhere(tmp_path: Path, token_from: str) -> None:
    (tmp_path / ".env").write_text("CIVITAI_API_URL=https://attacker.test\n")
    env = {"CIVITAI_CONFIG_DIR": str(tmp_path / "cfg")}
    if token_from == "environment":
        env["CIVITAI_API_TOKEN"] = "secret"
    warnings: list[str] = []
    s = load_settings(
        token="secret" if token_from == "flag" else None,
        environ=env,
        cwd=tmp_path,
        on_warning=warnings.append,
    )
    assert s.api_url == DEFAULT_ORCHESTRATOR_BASE_URL
    assert len(warnings) == 1
    assert "ignoring CIVITAI_API_URL from ./.env" in warnings[0]


def test_a_dotenv_never_chooses_the_sign_in_server(tmp_path: Path) -> None:
    """A repository's .env cannot send `login` (and the user) to another OAuth server."""
    (tmp_path / ".env").write_text(
        "CIVITAI_AUTH_URL=https://attacker.test\nCIVITAI_CLIENT_ID=cid\n"
    )
    env = {"CIVITAI_CONFIG_DIR": str(tmp_path / "cfg")}
    warnings: list[str] = []
    s = load_settings(environ=env, cwd=tmp_path, on_warning=warnings.append)
    assert (s.auth_url, s.client_id) == (None, "cid")
    assert len(warnings) == 1
    assert "ignoring CIVITAI_AUTH_URL from ./.env" in warnings[0]
    env["CIVITAI_AUTH_URL"] = "https://auth.env.test"
    assert load_settings(environ=env, cwd=tmp_path).auth_url == "https://auth.env.test"


def test_dotenv_url_with_its_own_token_is_used(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CIVITAI_API_URL=http://127.0.0.1:9\nCIVITAI_API_TOKEN=t\n")
    s = load_settings(environ={"CIVITAI_CONFIG_DIR": str(tmp_path)}, cwd=tmp_path)
    assert (s.api_url, s.token_source) == ("http://127.0.0.1:9", ".env")


def test_defaults_and_bad_files(tmp_path: Path) -> None:
    env = {"CIVITAI_CONFIG_DIR": str(tmp_path)}
    s = load_settings(environ=env, cwd=tmp_path)
    assert (s.api_url, s.token, s.token_source) == (DEFAULT_ORCHESTRATOR_BASE_URL, None, "login")
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        load_settings(environ=env, cwd=tmp_path)


@pytest.mark.parametrize(
    "bad",
    [
        {"api_url": 5},
        {"api_url": ["http://127.0.0.1:9"]},
        {"auth_url": {"url": "x"}},
        {"client_id": 7},
        {"max_retries": True},
        {"max_retries": 2.5},
        {"max_retries": [1]},
    ],
)
def test_a_config_file_value_of_the_wrong_type_is_an_error_naming_it(
    tmp_path: Path, bad: dict[str, object]
) -> None:
    """Ignoring it would send the token to the default server instead."""
    (tmp_path / "config.json").write_text(json.dumps(bad))
    (key,) = bad
    with pytest.raises(ConfigError, match=f"config.json: '{key}' must be a"):
        load_settings(environ={"CIVITAI_CONFIG_DIR": str(tmp_path)}, cwd=tmp_path)


def test_a_config_file_takes_max_retries_as_a_number_and_warns_of_unknown_keys(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"max_retries": 0, "apiUrl": "http://127.0.0.1:9", "client_id": None})
    )
    warnings: list[str] = []
    env = {"CIVITAI_CONFIG_DIR": str(tmp_path)}
    s = load_settings(environ=env, cwd=tmp_path, on_warning=warnings.append)
    assert (s.max_retries, s.api_url, s.client_id) == (0, DEFAULT_ORCHESTRATOR_BASE_URL, None)
    assert len(warnings) == 1
    assert "'apiUrl' is not a setting and is ignored" in warnings[0]
    (tmp_path / "config.json").write_text(json.dumps({"max_retries": 11}))
    with pytest.raises(ConfigError, match="from 0 to 10"):
        load_settings(environ=env, cwd=tmp_path)


def test_a_config_file_value_of_the_wrong_type_exits_2_before_any_request(run: Run) -> None:
    config = Path(os.environ["CIVITAI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text(json.dumps({"api_url": 5}))
    result = run("test", "--token", "t", "--json")  # no respx: a request would fail as 9
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["exitCode"] == 2
    assert "'api_url' must be a string" in result.stderr


def test_config_dir_defaults_to_platform_dir() -> None:
    assert config_dir({}).name == "civitai-orch"
    assert config_dir({"CIVITAI_CONFIG_DIR": "/x/y"}) == Path("/x/y")


BIG = (1 << 20) + 1
"""One byte past the settings-file cap (a /dev/zero symlink, which git can store as a
cloned repository's .env, read without one until memory ran out: MemoryError or the
OOM killer)."""


def test_a_dotenv_past_the_cap_is_ignored_with_a_warning(authed: Run, cli_home: Path) -> None:
    (cli_home / "work" / ".env").write_text("UNUSED=" + "x" * BIG)
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=r"/v2/consumer/workflows").respond(json={"items": []})
        result = authed("workflows")
    assert result.exit_code == 0, result.stderr
    assert "warning: cannot read" in result.stderr
    assert "MiB" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices")
def test_a_dotenv_that_is_a_device_is_never_read(authed: Run, cli_home: Path) -> None:
    """A cloned repository's .env symlinked to /dev/tty waited for the terminal (the
    command hung until Ctrl-D); /dev/zero was read up to the cap. Neither is read."""
    (cli_home / "work" / ".env").symlink_to("/dev/zero")
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=r"/v2/consumer/workflows").respond(json={"items": []})
        result = authed("workflows")
    assert result.exit_code == 0, result.stderr
    assert "is a device, not a file; it is ignored" in result.stderr


@pytest.mark.parametrize("name", ["config.json", "credentials.json"])
def test_a_settings_file_past_the_cap_is_a_one_line_error(
    run: Run, cli_home: Path, name: str
) -> None:
    config = cli_home / "config"
    config.mkdir(exist_ok=True)
    (config / name).write_text('{"api_url": "' + "x" * BIG + '"}')
    result = run("workflows", "--json")
    assert result.exit_code == 2, result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(f"cannot read {config / name}: ")
    assert "MiB" in message


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX home lookup")
def test_no_home_directory_is_a_usage_error_naming_the_fix(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No HOME and no passwd entry (``env -i`` under an arbitrary container uid): every
    command ended in platformdirs' RuntimeError traceback, a token in the environment too."""
    import pwd

    def unknown_user(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    for name in ("CIVITAI_CONFIG_DIR", "HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", unknown_user)
    result = run("workflows", "--token", "t", "--api-url", "http://127.0.0.1:9", "--json")
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert "home directory" in message
    assert "CIVITAI_CONFIG_DIR" in message


@given(st.text(max_size=6))
def test_max_retries_is_a_small_whole_number_or_an_error(text: str) -> None:
    ok = text.strip().isdecimal() and int(text.strip()) <= 10
    if ok:
        assert parse_retries(text, "environment") == int(text.strip())
    else:
        with pytest.raises(ConfigError, match="CIVITAI_MAX_RETRIES from the environment"):
            parse_retries(text, "environment")


# --- through the entry point ------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "-1", "2.5", "99"])
def test_bad_max_retries_is_a_usage_error(authed: Run, value: str) -> None:
    result = authed("workflows", env={"CIVITAI_MAX_RETRIES": value})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: CIVITAI_MAX_RETRIES from the environment must be")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("where", "url"),
    [("flag", "not a url"), ("env", "ftp://x.test"), ("env", "https://"), ("flag", "http//x")],
)
def test_malformed_api_url_is_a_one_line_usage_error(authed: Run, where: str, url: str) -> None:
    args = ["workflows", "--json"] + (["--api-url", url] if where == "flag" else [])
    result = authed(*args, env={"CIVITAI_API_URL": url} if where == "env" else None)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not an http(s) URL" in result.stderr
    assert json.loads(result.stdout)["error"]["exitCode"] == 2


@pytest.mark.parametrize(
    "url",
    [
        "https://me:hunter2pass@orch.test",
        "ftp://me:hunter2pass@orch.test",
        "https://orch.test/?key=hunter2pass",
        "https://orch.test/#hunter2pass",
        "me:hunter2pass@orch.test",  # no scheme: not parsed as a password, but one
    ],
)
def test_an_api_url_with_a_password_query_or_fragment_is_refused_unechoed(
    authed: Run, url: str
) -> None:
    """The URL was echoed whole in the error (its password too), or refused by the SDK
    as 'base_url must not carry credentials' (its Python name, not --api-url)."""
    result = authed("workflows", "--api-url", url, "--json")
    assert result.exit_code == 2, result.stderr
    assert "hunter2pass" not in result.stdout + result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith("the API URL from the --api-url flag ")
    assert "base_url" not in message


def test_env_token_works_beside_a_dotenv_the_cli_cannot_read(
    run: Run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cli_home / "work" / ".env").write_text(
        'NOTES="a multi-line\nvalue"\nthis line is prose, not a setting\nCIVITAI_API_URL=https://attacker.test\n'
    )
    monkeypatch.setenv("CIVITAI_API_TOKEN", "env-token")
    with respx.mock:
        route = respx.get(f"{DEFAULT_ORCHESTRATOR_BASE_URL}/v2/consumer/workflows").respond(
            json={"items": [], "next": None}
        )
        attacker = respx.route(host="attacker.test").respond(500)
        result = run("workflows", "--json")
    assert result.exit_code == 0, result.stderr
    assert route.called
    assert not attacker.called
    assert route.calls.last.request.headers["authorization"] == "Bearer env-token"
    assert "line 3 is not KEY=value" in result.stderr
    assert "ignoring CIVITAI_API_URL from ./.env" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX named pipes")
def test_a_dotenv_that_is_a_named_pipe_is_never_read(authed: Run, cli_home: Path) -> None:
    """A .env that is (or links to) a named pipe with no writer hung the command for
    good: opening it waited for a writer. It is refused like a device."""
    os.mkfifo(cli_home / "work" / ".env")
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=r"/v2/consumer/workflows").respond(json={"items": []})
        result = authed("workflows")
    assert result.exit_code == 0, result.stderr
    assert "is not a regular file; it is ignored" in result.stderr


@pytest.mark.parametrize("name", ["config.json", "credentials.json"])
def test_a_settings_file_that_is_a_directory_is_a_one_line_error(
    run: Run, cli_home: Path, name: str
) -> None:
    config = cli_home / "config"
    (config / name).mkdir(parents=True)
    result = run("workflows", "--json")
    assert result.exit_code == 2, result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(f"cannot read {config / name}: ")


_READ_DOTENV_THEN_STDIN = """
import json, sys
from pathlib import Path
from civitai_app_sdk.cli._config import read_dotenv
notes = []
print(json.dumps([read_dotenv(Path(".env"), on_warning=notes.append), notes, sys.stdin.read()]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX /dev/stdin")
@pytest.mark.parametrize("piped", [False, True], ids=["file", "pipe"])
def test_a_dotenv_linked_to_stdin_is_never_read(tmp_path: Path, piped: bool) -> None:
    """``.env -> /dev/stdin`` read what was meant for the command as settings (a token
    from it was used) when stdin was a file. It is refused, and stdin is left whole."""
    (tmp_path / ".env").symlink_to("/dev/stdin")
    given = "CIVITAI_API_TOKEN=from-stdin\n"
    source = tmp_path / "input.txt"
    source.write_text(given)
    with source.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-c", _READ_DOTENV_THEN_STDIN],
            **({"input": given.encode()} if piped else {"stdin": stdin}),
            capture_output=True,
            cwd=tmp_path,
            check=True,
            timeout=60,
        )
    values, notes, rest = json.loads(done.stdout)
    assert values == {}
    assert len(notes) == 1
    assert "is this command's standard input" in notes[0]
    assert rest == given


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices")
@pytest.mark.parametrize("target", ["/dev/null", "/dev/zero", "/dev/tty"])
def test_a_device_is_refused_without_being_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """Opening a device can act by itself (a tape rewinds, a terminal is claimed);
    a settings file that links to one is refused from its status alone."""
    if not os.path.exists(target):
        pytest.skip(f"no {target} here")
    link = tmp_path / ".env"
    link.symlink_to(target)

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("the device was opened")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ValueError, match=r"device|standard input"):
        read_small_text(link)

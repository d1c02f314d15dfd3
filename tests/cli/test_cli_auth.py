"""`login`, `logout` and `scopes`: token storage with owner-only permissions, device flow."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import httpx
import pytest
import respx

from civitai_app_sdk.cli._credentials import CredentialsFile
from tests.cli.conftest import ME

AUTH = "https://auth.test"
SITE = "https://civitai.com"


@pytest.fixture
def me() -> respx.Route:
    """``/api/v1/me`` on civitai.com accepts the pasted key."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock.get(f"{SITE}/api/v1/me").respond(json=ME)


def _creds(home: Path) -> Path:
    return home / "config" / "credentials.json"


def test_login_with_token_stores_owner_only(run, cli_home: Path, me: respx.Route) -> None:
    result = run("login", "--with-token", "--json", input="secret-key-1\n")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "apiKey"
    assert data["user"] == {"id": 7, "username": "maker"}
    assert data["apiUrl"] == "https://orchestration.civitai.com"
    assert me.calls.last.request.headers["authorization"] == "Bearer secret-key-1"
    assert "secret-key-1" not in result.stdout + result.stderr
    path = _creds(cli_home)
    assert json.loads(path.read_text())["tokens"]["access_token"] == "secret-key-1"
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_login_refuses_a_key_whose_user_claims_a_negative_scope(run, cli_home: Path) -> None:
    """/me answering ``tokenScope: -1`` (all bits, read as two's complement) ended
    ``login --with-token --json`` in a ValueError traceback after saving the key."""
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{SITE}/api/v1/me").respond(json={**ME, "tokenScope": -1})
        result = run("login", "--with-token", "--json", input="secret-key-1\n")
    assert result.exit_code == 3, result.stderr
    assert json.loads(result.stdout)["error"]["exitCode"] == 3
    assert "not saved" in result.stderr
    assert not _creds(cli_home).exists()


def test_login_with_empty_token_is_usage_error(run) -> None:
    result = run("login", "--with-token", input="\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no token")


@pytest.mark.parametrize("pasted", ["two words", "t\u00f6k\u00e9n", "tok\x7f"])
def test_login_refuses_a_token_no_header_can_carry(run, cli_home: Path, pasted: str) -> None:
    result = run("login", "--with-token", input=pasted + "\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no token")
    assert not _creds(cli_home).exists()


@pytest.mark.parametrize("how", ["flag", "environment"])
@pytest.mark.parametrize("device", [False, True])
def test_login_for_a_plain_http_api_off_this_machine_is_refused_before_sending(
    run, cli_home: Path, me: respx.Route, how: str, device: bool
) -> None:
    """Such a login could never be used (no token goes there), yet it was checked and saved."""
    url = "http://orchestration.civitai.com"
    args = ["--api-url", url] if how == "flag" else []
    env = {"CIVITAI_API_URL": url} if how == "environment" else None
    kind = ["--client-id", "cid", "--auth-url", AUTH] if device else ["--with-token"]
    result = run("login", *kind, *args, "--json", input="secret-key-1\n", env=env)
    assert result.exit_code == 2, result.stderr
    assert "could never be used" in json.loads(result.stdout)["error"]["message"]
    assert not me.called
    assert not _creds(cli_home).exists()


def test_stored_token_no_header_can_carry_is_one_line_error(run, cli_home: Path) -> None:
    from civitai_app_sdk.cli._credentials import NEVER_EXPIRES, StoredLogin
    from civitai_app_sdk.oauth import TokenSet

    tokens = TokenSet(access_token="t\u00f6k\u00e9n", expires_at=NEVER_EXPIRES)
    CredentialsFile(cli_home / "config").write(StoredLogin(tokens, api_url="https://orch.test"))
    result = run("workflows", env={"CIVITAI_API_URL": "https://orch.test"})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: the API token from the stored login contains")
    assert "Traceback" not in result.stderr


def test_login_without_client_id_says_what_to_do(run) -> None:
    result = run("login")
    assert result.exit_code == 2
    assert "--client-id" in result.stderr
    assert "--with-token" in result.stderr


@respx.mock
def test_device_login_saves_tokens_and_client(run, cli_home: Path) -> None:
    respx.post(f"{AUTH}/api/auth/oauth/device").respond(
        json={
            "device_code": "d" * 64,
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://auth.test/login/oauth/device",
            "expires_in": 900,
            "interval": 0.01,
        }
    )
    poll = respx.post(f"{AUTH}/api/auth/oauth/device-token").mock(
        side_effect=[
            httpx.Response(400, json={"error": "authorization_pending"}),
            httpx.Response(
                200,
                json={
                    "access_token": "civitai_" + "a" * 36,
                    "refresh_token": "r" * 40,
                    "expires_in": 3600,
                    "scope": "114689",
                    "token_type": "Bearer",
                },
            ),
        ]
    )
    respx.get(f"{AUTH}/api/v1/me").respond(json=ME)
    result = run("login", "--client-id", "cid", "--auth-url", AUTH)
    assert result.exit_code == 0, result.stderr
    assert "ABCD-EFGH" in result.stderr
    assert "Signed in as maker (user 7)" in result.stdout
    assert poll.call_count == 2
    stored = CredentialsFile(cli_home / "config").read()
    assert stored is not None
    assert (stored.client_id, stored.auth_url) == ("cid", AUTH)
    assert stored.tokens.refresh_token == "r" * 40
    assert int(stored.tokens.scope) == 114689


@respx.mock
def test_device_login_keeps_the_tokens_when_the_user_lookup_gets_no_answer(
    run, cli_home: Path
) -> None:
    """The user had approved and the tokens had come, but ``/api/v1/me`` (only to show
    the name) could not be reached: the login ended "cannot reach the server" and the
    tokens, their device code spent, were dropped. They are saved."""
    respx.post(f"{AUTH}/api/auth/oauth/device").respond(
        json={
            "device_code": "d" * 64,
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://auth.test/x",
            "expires_in": 900,
            "interval": 0.01,
        }
    )
    respx.post(f"{AUTH}/api/auth/oauth/device-token").respond(
        json={"access_token": "civitai_" + "a" * 36, "refresh_token": "r" * 40}
    )
    respx.get(f"{AUTH}/api/v1/me").mock(side_effect=httpx.ConnectError("network down"))
    result = run("login", "--client-id", "cid", "--auth-url", AUTH)
    assert result.exit_code == 0, result.stderr
    assert "Signed in for" in result.stdout
    stored = CredentialsFile(cli_home / "config").read()
    assert stored is not None
    assert stored.tokens.refresh_token == "r" * 40


@respx.mock
def test_device_login_denied_exits_auth(run) -> None:
    respx.post(f"{AUTH}/api/auth/oauth/device").respond(
        json={
            "device_code": "d" * 64,
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://auth.test/x",
            "expires_in": 900,
            "interval": 0.01,
        }
    )
    respx.post(f"{AUTH}/api/auth/oauth/device-token").respond(400, json={"error": "access_denied"})
    result = run("login", "--client-id", "cid", "--auth-url", AUTH)
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines()[-1].startswith("error: sign-in failed: access_denied")


def test_logout_removes_file(run, cli_home: Path, me: respx.Route) -> None:
    run("login", "--with-token", input="k\n")
    assert _creds(cli_home).exists()
    result = run("logout", "--json")
    assert json.loads(result.stdout)["removed"] is True
    assert not _creds(cli_home).exists()
    again = run("logout")
    assert again.exit_code == 0
    assert "Not signed in" in again.stdout


def test_corrupt_credentials_file_is_one_line_error(run, cli_home: Path) -> None:
    _creds(cli_home).parent.mkdir(parents=True)
    _creds(cli_home).write_text("{not json")
    result = run("test", "--json", env={"CIVITAI_API_URL": "https://orch.test"})
    assert result.exit_code == 2
    assert "run `civitai-orch login`" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {"api_url": "http://[::1"},  # httpx cannot parse it: was a bare InvalidURL traceback
        {"api_url": "javascript:alert(1)"},
        {"client_id": "app", "auth_url": "http://[::1"},
    ],
)
def test_a_stored_url_that_is_not_http_is_one_line_error(
    run, cli_home: Path, extra: dict[str, str]
) -> None:
    tokens = {"access_token": "secret-at", "expires_at": 4e12, "refresh_token": "secret-rt"}
    _creds(cli_home).parent.mkdir(parents=True)
    _creds(cli_home).write_text(json.dumps({"tokens": tokens, **extra}))
    result = run("test", "--json")
    assert result.exit_code == 2, result.stderr
    key = "auth_url" if "auth_url" in extra else "api_url"
    assert f"{key} is not an http(s) URL; run `civitai-orch login`" in result.stderr
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "mask", "names"),
    [
        (["114689"], 114689, ["UserRead", "AIServicesRead", "AIServicesWrite", "BuzzRead"]),
        (["AIServicesRead,UserRead"], 16385, ["UserRead", "AIServicesRead"]),
        (["UserRead", "BuzzRead"], 65537, ["UserRead", "BuzzRead"]),
        (["AIServices"], 114689, ["UserRead", "AIServicesRead", "AIServicesWrite", "BuzzRead"]),
    ],
)
def test_scopes_json(run, args: list[str], mask: int, names: list[str]) -> None:
    result = run("scopes", *args, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["mask"], data["scopes"]) == (mask, names)


def test_scopes_human_and_unknown(run) -> None:
    result = run("scopes", str(114689 | (1 << 40)))
    assert "AI Services" not in result.stdout  # extra bit makes it Custom
    assert "Unknown bits: 1099511627776" in result.stdout
    assert "AIServicesWrite" in result.stdout
    bad = run("scopes", "Nope")
    assert bad.exit_code == 2
    assert "unknown scope 'Nope'" in bad.stderr
    huge = run("scopes", "9" * 5000)  # was 'unknown scope' with the 5,000 digits echoed
    assert huge.exit_code == 2
    assert "too large for a scope bitmask" in huge.stderr
    assert "unknown scope" not in huge.stderr
    assert len(huge.stderr) < 300


def test_stored_login_reprs_hide_tokens(cli_home: Path) -> None:
    import time

    from civitai_app_sdk.cli._config import load_settings
    from civitai_app_sdk.cli._credentials import StoredLogin
    from civitai_app_sdk.cli._session import resolve_token
    from civitai_app_sdk.oauth import TokenSet

    tokens = TokenSet(
        access_token="acc-secret-1", refresh_token="ref-secret-1", expires_at=time.time() + 3600
    )
    file = CredentialsFile(cli_home / "config")
    login = StoredLogin(tokens, "cid", AUTH, "https://orchestration.civitai.com")
    file.write(login)
    provider = resolve_token(
        load_settings(environ={"CIVITAI_CONFIG_DIR": str(cli_home / "config")})
    )
    for text in (repr(login), repr(file), repr(provider), str(file.read())):
        assert "acc-secret-1" not in text
        assert "ref-secret-1" not in text


@respx.mock
def test_v1_and_v2_calls_never_log_the_token(
    run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    env = {"CIVITAI_API_URL": "https://orch.test", "CIVITAI_API_TOKEN": "log-secret-token"}
    respx.get("https://orch.test/v1/consumer/jobs/j").respond(json={"jobId": "j"})
    respx.get("https://orch.test/v2/consumer/workflows/w").respond(404, json={"title": "x"})
    assert run("job", "j", "--json", env=env).exit_code == 0
    assert run("workflow", "w", env=env).exit_code == 6
    assert any("/v1/consumer/jobs/j" in r.getMessage() for r in caplog.records)
    assert "log-secret-token" not in caplog.text


def test_login_says_when_an_environment_token_overrides_it(
    run, cli_home: Path, me: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Signed in as maker" while every command went on sending the other token
    monkeypatch.setenv("CIVITAI_API_TOKEN", "env-token")
    result = run("login", "--with-token", "--json", input="secret-key-1\n")
    assert result.exit_code == 0, result.stderr
    assert "CIVITAI_API_TOKEN from the environment is used before this login" in result.stderr
    assert json.loads(result.stdout)["kind"] == "apiKey"
    assert "env-token" not in result.stdout + result.stderr


def test_login_reads_a_bounded_line_from_standard_input(
    run, cli_home: Path, me: respx.Route
) -> None:
    # `login --with-token < /dev/zero` read until memory ran out (a MemoryError traceback)
    result = run("login", "--with-token", input="a" * 100_000)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no token")
    assert not me.called
    assert not _creds(cli_home).exists()

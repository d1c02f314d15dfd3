"""A process that ends while its sync client refreshes (no async client).

Its exit waits for the refresh only as long as the request's own timeout (its
whole-request deadline), never for the server's answer past it; and the stored login is
the old pair or the new one, never half of one. Each case runs a child process against
the local OAuth server (loopback), the login in a ``credentials.json`` as the CLI keeps it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from civitai_app_sdk.cli._credentials import CredentialsFile, StoredLogin
from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer
from civitai_app_sdk.oauth import TokenSet

CLIENT_ID = "demo-app"
HOLD = 30.0  # the server's hold of a token request: the longest a fault may last
EXIT_LIMIT = 20.0  # generous for a child that should exit after ~1 s; short of HOLD

CHILD = textwrap.dedent(
    """
    import asyncio, atexit, sys, threading
    from pathlib import Path
    from civitai_app_sdk.cli._credentials import CredentialsFile
    from civitai_app_sdk.oauth import OAuthClient, RefreshingTokenProvider

    url, folder, scenario, timeout = sys.argv[1:5]
    oauth = OAuthClient("demo-app", base_url=url, timeout=float(timeout))
    provider = RefreshingTokenProvider(CredentialsFile(Path(folder)), client=oauth)

    def refresh():
        try:
            provider.get_token()
            print("refreshed", flush=True)
        except Exception as error:
            print("failed", type(error).__name__, flush=True)

    async def give_up():
        try:
            await asyncio.wait_for(provider.aget_token(), 0.2)
        except TimeoutError:
            print("gave up", flush=True)

    if scenario == "thread":
        threading.Thread(target=refresh).start()
    elif scenario == "daemon":
        threading.Thread(target=refresh, daemon=True).start()
        threading.Event().wait(0.5)
    elif scenario == "atexit":
        atexit.register(refresh)
    else:
        asyncio.run(give_up())
    """
)


def _run(server: LocalServer, folder: Path, scenario: str, timeout: float) -> str:
    """Run the child; its output. Fails if it does not exit within ``EXIT_LIMIT``."""
    command = [sys.executable, "-c", CHILD, server.url, str(folder), scenario, str(timeout)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=EXIT_LIMIT, check=True)
    return done.stdout


def _signed_in(server: LocalServer, folder: Path) -> TokenSet:
    """A login the server issued, saved in ``folder``, its access token expired."""
    access, refresh = server.state.tokens.mint(CLIENT_ID, 1, server.state.clock.now())
    tokens = TokenSet(access_token=access, refresh_token=refresh, expires_at=time.time() - 5)
    login = StoredLogin(tokens, client_id=CLIENT_ID, auth_url=server.url, api_url=server.url)
    CredentialsFile(folder).write(login)
    return _stored(folder)


def _stored(folder: Path) -> TokenSet:
    login = CredentialsFile(folder).read()
    assert login is not None
    return login.tokens


@pytest.mark.parametrize("scenario", ["thread", "asyncio", "daemon"])
def test_exit_waits_no_longer_than_the_requests_timeout(scenario: str, tmp_path: Path) -> None:
    held = FaultRule("latency", times=1, seconds=HOLD, path="oauth/token")
    with LocalServer(LocalConfig(faults=(held,))) as server:
        signed_in = _signed_in(server, tmp_path)
        output = _run(server, tmp_path, scenario, timeout=1.0)
    assert held.hits == 1 or scenario == "daemon"  # a daemon thread may not have sent it
    if scenario == "thread":
        assert output == "failed RequestTimeoutError\n"
    assert _stored(tmp_path) == signed_in  # the old pair, whole


@pytest.mark.parametrize("scenario", ["atexit", "asyncio"])
def test_exit_waits_for_a_refresh_answered_in_time_and_saves_the_new_pair(
    scenario: str, tmp_path: Path
) -> None:
    held = FaultRule("latency", times=1, seconds=1.0, path="oauth/token")
    with LocalServer(LocalConfig(faults=(held,))) as server:
        signed_in = _signed_in(server, tmp_path)
        output = _run(server, tmp_path, scenario, timeout=10.0)
        stored = _stored(tmp_path)
        assert stored.refresh_token in server.state.tokens.refresh  # the live pair, whole
    assert stored.refresh_token != signed_in.refresh_token
    assert stored.access_token != signed_in.access_token
    assert output.endswith("refreshed\n") or output == "gave up\n"

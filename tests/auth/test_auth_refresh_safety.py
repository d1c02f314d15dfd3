"""Refreshing never logs a user out by accident (issue 13, item 9).

A refresh that never left the machine keeps the token usable; a refusal after another
refresher rotated the pair picks up the fresh pair; refreshes of one store are
serialised across providers and across processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from civitai_app_sdk.cli._credentials import CredentialsFile, StoredLogin
from civitai_app_sdk.cli._keyring import CredentialStore
from civitai_app_sdk.errors import CivitaiError, RequestTimeoutError
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    LoginRequiredError,
    MemoryTokenStore,
    OAuthClient,
    OAuthError,
    RefreshingTokenProvider,
    TokenSet,
)
from civitai_app_sdk.oauth._unsent import may_resend
from civitai_app_sdk.oauth.store import FileRefreshLock, LockingTokenStore

TOKEN_URL = "https://auth.civitai.com/api/auth/oauth/token"
NOW = 1_700_000_000.0


class RotatingServer:
    """A token endpoint that accepts each refresh token once and rotates it."""

    def __init__(self, first: str = "rt-0", delay: float = 0.0, refusal_delay: float = 0.0) -> None:
        self.valid = {first}
        self.delay = delay
        self.refusal_delay = refusal_delay
        self.issued = 0
        self.refused = 0
        self.lock = threading.Lock()

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        time.sleep(self.delay)
        with self.lock:
            token = form.get("refresh_token", "")
            refused = token not in self.valid
            if refused:
                self.refused += 1
            else:
                self.valid.discard(token)
                self.issued += 1
                n = self.issued
                self.valid.add(f"rt-{n}")
        if refused:
            time.sleep(self.refusal_delay)
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": 3600}

    def respx_handler(self, request: httpx.Request) -> httpx.Response:
        status, body = self.answer(dict(parse_qsl(request.content.decode())))
        return httpx.Response(status, json=body)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def expiring(refresh: str = "rt-0") -> TokenSet:
    return TokenSet(access_token="at-0", refresh_token=refresh, expires_at=NOW + 10)


def provider(store: Any, **kwargs: Any) -> RefreshingTokenProvider:
    kwargs.setdefault("client", OAuthClient("app", clock=lambda: NOW))
    return RefreshingTokenProvider(store, clock=lambda: NOW, **kwargs)


class PlainStore:
    """A store with no refresh lock (a cookie, a database row): only re-reading helps."""

    def __init__(self, tokens: TokenSet) -> None:
        self._inner = MemoryTokenStore(tokens)

    def load(self) -> TokenSet | None:
        return self._inner.load()

    def save(self, tokens: TokenSet) -> None:
        self._inner.save(tokens)

    def clear(self) -> None:
        self._inner.clear()


# -- a refresh that never left the machine -------------------------------------------


# What a failed unsent refresh may raise: the httpx error, or an SDK error wrapping it.
NOT_SENT = (httpx.TransportError, RuntimeError, CivitaiError)
UNSENT = [
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("connect timed out"),
    RuntimeError("Event loop is closed"),
]


@pytest.mark.parametrize("failure", UNSENT, ids=type)
def test_unsent_refresh_keeps_the_token_and_the_store(
    mock: respx.MockRouter, failure: Exception
) -> None:
    server = RotatingServer()
    route = mock.post(TOKEN_URL).mock(side_effect=[failure, server.respx_handler])
    store = MemoryTokenStore(expiring())
    # max_retries=0: the core would otherwise resend a connect failure by itself
    tokens = provider(store, client=OAuthClient("app", clock=lambda: NOW, max_retries=0))
    with pytest.raises(NOT_SENT) as info:
        tokens.get_token()
    assert not isinstance(info.value, LoginRequiredError)
    assert may_resend(info.value)
    assert store.load() == expiring()
    # The same rt-0 is sent again (it was never read by the server) and works.
    assert tokens.get_token() == "at-1"
    assert route.call_count == 2
    assert b"refresh_token=rt-0" in route.calls.last.request.content


@pytest.mark.anyio
@pytest.mark.parametrize("failure", UNSENT, ids=type)
async def test_async_unsent_refresh_keeps_the_token(
    mock: respx.MockRouter, failure: Exception
) -> None:
    server = RotatingServer()
    mock.post(TOKEN_URL).mock(side_effect=[failure, server.respx_handler])
    store = MemoryTokenStore(expiring())
    client = AsyncOAuthClient("app", clock=lambda: NOW, max_retries=0)
    tokens = provider(store, client=None, async_client=client)
    with pytest.raises(NOT_SENT):
        await tokens.aget_token()
    assert store.load() == expiring()
    assert await tokens.aget_token() == "at-1"


def test_unsent_refresh_keeps_credentials_json(mock: respx.MockRouter, tmp_path: Path) -> None:
    file = CredentialsFile(tmp_path)
    file.write(StoredLogin(expiring(), "app", "https://auth.civitai.com"))
    mock.post(TOKEN_URL).mock(side_effect=httpx.ConnectError("offline"))
    tokens = provider(file)  # the core retries the refused connection, then gives up
    for _ in range(2):
        with pytest.raises(NOT_SENT) as info:
            tokens.get_token()
        assert not isinstance(info.value, LoginRequiredError)
    assert file.path.exists()
    assert file.load() == expiring()


@pytest.mark.parametrize("failure", UNSENT, ids=type)
def test_client_gives_an_unsent_refresh_token_back(
    mock: respx.MockRouter, failure: Exception
) -> None:
    route = mock.post(TOKEN_URL).mock(
        side_effect=[failure, httpx.Response(200, json={"access_token": "a", "expires_in": 60})]
    )
    with OAuthClient("app", max_retries=0) as client:
        with pytest.raises(NOT_SENT) as info:
            client.refresh_token("rt-0")
        assert may_resend(info.value)
        assert client.refresh_token("rt-0").access_token == "a"
    assert route.call_count == 2


def test_a_request_that_reached_the_server_is_not_sent_twice(mock: respx.MockRouter) -> None:
    """A read timeout may hide a rotation: the token stays claimed, the store stays."""
    route = mock.post(TOKEN_URL).mock(side_effect=httpx.ReadTimeout("no answer"))
    store = MemoryTokenStore(expiring())
    tokens = provider(store)
    with pytest.raises(RequestTimeoutError) as info:
        tokens.get_token()
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    with pytest.raises(LoginRequiredError):
        tokens.get_token()
    assert route.call_count == 1
    # Not refused by the server: the next process may still try it.
    assert store.load() == expiring()


def test_may_resend_follows_wrapping_causes() -> None:
    wrapped = OAuthError("network_error")
    wrapped.__cause__ = httpx.ConnectError("refused")
    assert may_resend(wrapped)
    assert not may_resend(OAuthError("invalid_grant", status=400))
    assert not may_resend(httpx.ReadError("reset"))
    assert not may_resend(RecursionError())


# -- invalid_grant after another refresher rotated the pair ---------------------------


def test_refusal_after_another_rotation_uses_the_fresh_pair(mock: respx.MockRouter) -> None:
    store = PlainStore(expiring())
    fresh = TokenSet(access_token="at-9", refresh_token="rt-9", expires_at=NOW + 3600)

    def refuse(request: httpx.Request) -> httpx.Response:
        store.save(fresh)  # another process won the race and saved its pair
        return httpx.Response(400, json={"error": "invalid_grant"})

    mock.post(TOKEN_URL).mock(side_effect=refuse)
    assert provider(store).get_token() == "at-9"
    assert store.load() == fresh


def test_refusal_after_rotation_to_an_expired_pair_refreshes_that_pair(
    mock: respx.MockRouter,
) -> None:
    store = PlainStore(expiring())

    def answer(request: httpx.Request) -> httpx.Response:
        if b"rt-0" in request.content:
            store.save(expiring("rt-5"))
            return httpx.Response(400, json={"error": "invalid_grant"})
        body = {"access_token": "at-6", "refresh_token": "rt-6", "expires_in": 3600}
        return httpx.Response(200, json=body)

    route = mock.post(TOKEN_URL).mock(side_effect=answer)
    assert provider(store).get_token() == "at-6"
    assert route.call_count == 2
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token == "rt-6"


def test_refusal_of_the_stored_token_still_logs_out(mock: respx.MockRouter) -> None:
    mock.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
    store = PlainStore(expiring())
    with pytest.raises(LoginRequiredError):
        provider(store).get_token()
    assert store.load() is None


@pytest.mark.parametrize("store_kind", ["plain", "locking"])
def test_many_callers_across_two_providers_on_one_store(
    mock: respx.MockRouter, store_kind: str
) -> None:
    # Without a lock both providers may send rt-0; the loser's refusal arrives after the
    # winner saved its pair (as when another process rotated it), and must not log out.
    server = RotatingServer(delay=0.1, refusal_delay=0.2)
    mock.post(TOKEN_URL).mock(side_effect=server.respx_handler)
    store: Any = PlainStore(expiring()) if store_kind == "plain" else MemoryTokenStore(expiring())
    providers = [provider(store), provider(store)]
    with ThreadPoolExecutor(32) as pool:
        futures = [pool.submit(providers[i % 2].get_token) for i in range(500)]
        results = [f.exception() or f.result() for f in futures]
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert set(results) <= {"at-1", "at-2"}
    saved = store.load()
    assert saved is not None
    assert saved.refresh_token in server.valid
    if store_kind == "locking":
        assert server.issued == 1
        assert server.refused == 0


@pytest.mark.anyio
async def test_async_callers_across_two_providers_share_one_refresh(
    mock: respx.MockRouter,
) -> None:
    server = RotatingServer(delay=0.05)
    mock.post(TOKEN_URL).mock(side_effect=server.respx_handler)
    store = MemoryTokenStore(expiring())
    providers = [
        provider(store, client=None, async_client=AsyncOAuthClient("app", clock=lambda: NOW))
        for _ in range(2)
    ]
    results = await asyncio.gather(*(providers[i % 2].aget_token() for i in range(200)))
    assert set(results) == {"at-1"}
    assert (server.issued, server.refused) == (1, 0)


# -- the refresh lock ----------------------------------------------------------------


def test_stores_with_a_refresh_lock(tmp_path: Path) -> None:
    assert isinstance(MemoryTokenStore(), LockingTokenStore)
    assert isinstance(CredentialsFile(tmp_path), LockingTokenStore)
    assert isinstance(CredentialStore(tmp_path, backend=None), LockingTokenStore)
    assert not isinstance(PlainStore(expiring()), LockingTokenStore)


def test_file_locks_exclude_each_other_within_one_process(tmp_path: Path) -> None:
    first, second = FileRefreshLock(tmp_path / "x.lock"), FileRefreshLock(tmp_path / "x.lock")
    assert first.acquire(1)
    assert not second.acquire(0.05)
    first.release()
    assert second.acquire(0)
    second.release()


def test_a_held_lock_times_out_as_a_temporary_error(tmp_path: Path) -> None:
    file = CredentialsFile(tmp_path)
    file.write(StoredLogin(expiring(), "app"))
    holder = file.refresh_lock()
    assert holder.acquire(1)
    try:
        with pytest.raises(OAuthError) as info:
            provider(file, wait_timeout=0.1).get_token()
        assert info.value.error == "temporarily_unavailable"
        assert not isinstance(info.value, LoginRequiredError)
    finally:
        holder.release()
    assert file.load() == expiring()


@pytest.mark.anyio
async def test_async_refresh_waits_for_the_lock_without_blocking_the_loop(
    mock: respx.MockRouter, tmp_path: Path
) -> None:
    server = RotatingServer()
    mock.post(TOKEN_URL).mock(side_effect=server.respx_handler)
    file = CredentialsFile(tmp_path)
    file.write(StoredLogin(expiring(), "app"))
    holder = file.refresh_lock()
    assert holder.acquire(1)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks += 1

    waiting = asyncio.ensure_future(provider(file).aget_token())
    await tick()
    assert not waiting.done()
    holder.release()
    assert await waiting == "at-1"
    assert ticks == 10


class BrokenLockStore(MemoryTokenStore):
    """A store whose lock cannot be made (an unwritable folder)."""

    def refresh_lock(self) -> Any:
        raise PermissionError("read-only folder")


def test_a_lock_that_cannot_be_made_fails_the_refresh_without_wedging(
    mock: respx.MockRouter,
) -> None:
    route = mock.post(TOKEN_URL)
    tokens = provider(BrokenLockStore(expiring()), wait_timeout=1)
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(PermissionError):
            tokens.get_token()
        assert time.monotonic() - started < 1  # not the whole 1 s lock wait
    assert route.call_count == 0


# -- two processes on one credentials file -------------------------------------------


_CHILD = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from civitai_app_sdk.cli._credentials import CredentialsFile
    from civitai_app_sdk.cli._keyring import CredentialStore
    from civitai_app_sdk.oauth import OAuthClient, RefreshingTokenProvider

    file = {"file": CredentialsFile, "cli": CredentialStore}[sys.argv[3]](Path(sys.argv[1]))
    tokens = RefreshingTokenProvider(file, client=OAuthClient("app", base_url=sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()
    def one(_):
        try:
            return tokens.get_token()
        except Exception as error:
            return "FAILED " + type(error).__name__
    with ThreadPoolExecutor(20) as pool:
        print("\\n".join(pool.map(one, range(20))), flush=True)
    """
)


@pytest.fixture
def loopback_server() -> Iterator[tuple[str, RotatingServer]]:
    server = RotatingServer(delay=0.2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            status, body = server.answer(dict(parse_qsl(self.rfile.read(length).decode())))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}", server
    finally:
        http.shutdown()
        http.server_close()


@pytest.mark.parametrize("store", ["file", "cli"])
def test_two_processes_on_one_credentials_file(
    tmp_path: Path, loopback_server: tuple[str, RotatingServer], store: str
) -> None:
    """Also through the CLI's store (keyring off, as on a server), which must lock too."""
    url, server = loopback_server
    file = CredentialsFile(tmp_path)
    soon = TokenSet(access_token="at-0", refresh_token="rt-0", expires_at=time.time() + 10)
    file.write(StoredLogin(soon, "app", url))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "CIVITAI_KEYRING": "0"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path), url, store],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    for child in children:  # start both at once, then collect
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=60)[0].split() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert [token for out in outputs for token in out] == ["at-1"] * 40
    assert (server.issued, server.refused) == (1, 0)
    stored = file.load()
    assert stored is not None
    assert stored.refresh_token == "rt-1"


def test_a_saved_pair_is_on_disk_before_it_replaces_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the old refresh token is dead once the server rotated it: a crash between the
    # rename and the data reaching the disk must not leave an empty credentials file
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    file = CredentialsFile(tmp_path)
    file.write(StoredLogin(expiring(), "app"))
    file.save(expiring("rt-1"))
    assert events == ["fsync", "replace"] * 2
    stored = file.load()
    assert stored is not None
    assert stored.refresh_token == "rt-1"

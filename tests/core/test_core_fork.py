"""A client used before ``os.fork``: the child opens its own connections.

Copied keep-alive sockets would let parent and child write on one TCP connection and
read each other's answers (another workflow than the one asked for).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from civitai_app_sdk_generated import Workflow

from civitai_app_sdk import cookies
from civitai_app_sdk._request import _API_URLS
from civitai_app_sdk.blocks import schema as block_schema
from civitai_app_sdk.cookies import CookieSealer
from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.oauth import (
    AsyncOAuthClient,
    FileRefreshLock,
    MemoryTokenStore,
    OAuthClient,
    RefreshingTokenProvider,
    SealedCookieTokenStore,
    TokenSet,
)
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.web import MemorySessionStore
from civitai_app_sdk.web._flights import RunFlight
from tests.web.test_web_session import AUTH, NOW, app_core, cookie_for, tokens

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")

TOKEN = "fork-token"
BODY: Any = {"steps": [{"$type": "textToImage", "input": {"prompt": "fork", "quantity": 1}}]}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def _in_child(client: OrchestratorClient, workflow_id: str) -> dict[str, Any]:
    """What the child sees: the pool it inherited, then its own requests."""
    pool: Any = client._transport._pool
    inherited = len(pool._pool.connections)
    ids = [client.get(workflow_id).id for _ in range(20)]
    return {"inherited": inherited, "ids": ids, "now": len(pool._pool.connections)}


def test_a_forked_child_does_not_use_the_parents_connections(server: LocalServer) -> None:
    with OrchestratorClient(TOKEN, base_url=server.url, max_connections=1) as client:
        mine, theirs = client.submit(BODY).id or "", client.submit(BODY).id or ""
        pool: Any = client._transport._pool
        (connection,) = pool._pool.connections  # kept alive for the next request
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            os.close(read)
            try:
                report: dict[str, Any] = _in_child(client, theirs)
            except BaseException as error:  # anything goes back to the parent
                report = {"error": repr(error)}
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        try:
            seen = [client.get(mine).id for _ in range(20)]  # while the child asks too
        finally:
            _, status = os.waitpid(pid, 0)
            with os.fdopen(read, "rb") as pipe:
                report = json.loads(pipe.read())
        assert status == 0
        assert report == {"inherited": 0, "ids": [theirs] * 20, "now": 1}
        assert seen == [mine] * 20
        # the child closed only its copy: the parent's connection still serves it
        assert pool._pool.connections == [connection]
        assert client.get(mine).id == mine


_CHILD_LIMIT = 10
"""Seconds a child may take before its alarm kills it (a wait without end)."""
TOKEN_URL = f"{AUTH}/api/auth/oauth/token"


def _forked(work: Callable[[], object]) -> object:
    """What ``work()`` returns (or the repr of what it raises) in a forked child.

    A child still waiting after ``_CHILD_LIMIT`` seconds (on a lock or a refresh that
    the parent's threads held, which did not come along) is killed by its alarm.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(_CHILD_LIMIT)
        try:
            report: object = work()
        except BaseException as error:  # anything goes back to the parent
            report = repr(error)
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert os.WIFEXITED(_waited(pid)), "the child waited for good (it was killed)"
        return json.loads(pipe.read())


def _waited(pid: int) -> int:
    """The exit status of child ``pid``, killed when it has not ended within about
    ``_CHILD_LIMIT`` seconds (its alarm is set once ``os.fork()`` has returned in it, so a
    fork hook that waits is killed from here)."""
    deadline = time.monotonic() + _CHILD_LIMIT + 5
    while time.monotonic() < deadline:
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


@contextlib.contextmanager
def _held_by_a_thread(*locks: Any) -> Iterator[None]:
    """``locks`` taken by another thread for the duration of the block."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        for lock in locks:
            lock.acquire()
        taken.set()
        done.wait(_CHILD_LIMIT * 2)
        for lock in locks:
            lock.release()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(5)
    try:
        yield
    finally:
        done.set()
        holder.join()


def _expired_store() -> MemoryTokenStore:
    return MemoryTokenStore(TokenSet(access_token="a1", refresh_token="r1", expires_at=NOW - 5))


class _FirstRefreshHeld(OAuthClient):
    """Holds its first refresh until the test lets it go; answers later ones at once."""

    def __init__(self) -> None:
        super().__init__("app", base_url=AUTH, site_url=AUTH)
        self.sent = 0
        self.started, self.release = threading.Event(), threading.Event()

    def refresh_token(self, refresh_token: str, **_: object) -> TokenSet:
        self.sent += 1
        if self.sent == 1:
            self.started.set()
            self.release.wait(_CHILD_LIMIT * 2)
        return TokenSet(access_token=f"a{self.sent + 1}", refresh_token="r2", expires_at=NOW + 3600)


def test_a_child_forked_while_a_thread_refreshes_refreshes_on_its_own() -> None:
    # the thread leading the refresh (holding the store's refresh lock) is not in the
    # child: the child must not wait for a refresh that will never end
    oauth = _FirstRefreshHeld()
    provider = RefreshingTokenProvider(
        _expired_store(), client=oauth, wait_timeout=_CHILD_LIMIT * 3, clock=lambda: NOW
    )
    leader = threading.Thread(target=provider.get_token)
    leader.start()
    assert oauth.started.wait(5)
    try:
        assert _forked(provider.get_token) == "a3"
    finally:
        oauth.release.set()
        leader.join()
    assert provider.get_token() == "a2"  # the parent's refresh ended as usual


def test_a_child_forked_while_a_thread_holds_the_refresh_locks_still_refreshes() -> None:
    store = _expired_store()
    client = OAuthClient("app", base_url=AUTH, site_url=AUTH)
    provider = RefreshingTokenProvider(store, client=client, clock=lambda: NOW)
    locks = (provider._mutex, client._guard._lock, store._lock, store._refreshing._lock)
    with respx.mock:
        respx.post(TOKEN_URL).respond(
            200, json={"access_token": "a2", "refresh_token": "r2", "expires_in": 3600}
        )
        with _held_by_a_thread(*locks):
            assert _forked(provider.get_token) == "a2"


class _FirstAsyncRefreshHeld(AsyncOAuthClient):
    """:class:`_FirstRefreshHeld` for the web core, which refreshes in event loops."""

    def __init__(self) -> None:
        super().__init__("app", base_url=AUTH, site_url=AUTH)
        self.held = _FirstRefreshHeld()

    async def refresh_token(self, refresh_token: str, **_: object) -> TokenSet:
        return await asyncio.to_thread(self.held.refresh_token, refresh_token)


def test_a_child_forked_while_a_loop_in_a_thread_refreshes_a_session_refreshes_on_its_own() -> None:
    oauth = _FirstAsyncRefreshHeld()
    owner = app_core(oauth_client=oauth)
    cookie = asyncio.run(cookie_for(owner, tokens("a1", "r1", NOW - 5)))

    def request() -> str:
        return asyncio.run(owner.new_session(cookie).access_token())

    leader = threading.Thread(target=request)
    leader.start()
    assert oauth.held.started.wait(5)
    try:
        with _held_by_a_thread(owner._refreshes_lock):
            assert _forked(request) == "a3"
    finally:
        oauth.held.release.set()
        leader.join()


def test_a_child_forked_while_a_loop_in_a_thread_uses_an_async_client_can_use_it(
    server: LocalServer,
) -> None:
    # the loop's thread is not in the child: the client is not in use there
    client = AsyncOrchestratorClient(TOKEN, base_url=server.url)
    workflow_id = asyncio.run(client.submit(BODY)).id or ""
    used, done = threading.Event(), threading.Event()

    async def use_and_stay() -> None:
        await client.get(workflow_id)
        used.set()
        await asyncio.to_thread(done.wait, _CHILD_LIMIT * 2)

    running = threading.Thread(target=asyncio.run, args=(use_and_stay(),))
    running.start()
    assert used.wait(5)
    try:
        assert _forked(lambda: asyncio.run(client.get(workflow_id)).id) == workflow_id
    finally:
        done.set()
        running.join()


def test_a_child_forked_while_a_loop_in_a_thread_signs_in_gets_an_oauth_client() -> None:
    owner = app_core(oauth_url=AUTH, site_url=AUTH, clock=time.time)
    used, done = threading.Event(), threading.Event()

    async def look_up_and_stay() -> None:
        await owner.user_for("a1")
        used.set()
        await asyncio.to_thread(done.wait, _CHILD_LIMIT * 2)

    with respx.mock:
        respx.get(f"{AUTH}/api/v1/me").respond(200, json={"id": 1, "username": "u"})
        running = threading.Thread(target=asyncio.run, args=(look_up_and_stay(),))
        running.start()
        assert used.wait(5)
        clients = owner._loop_clients
        assert clients is not None
        try:
            with _held_by_a_thread(clients._lock):
                answer = _forked(lambda: asyncio.run(owner.user_for("a2")).username)
        finally:
            done.set()
            running.join()
    assert answer == "u"


def test_a_file_refresh_lock_is_the_childs_own_after_a_fork(tmp_path: Path) -> None:
    # filelock refuses a lock inherited across fork with a bare RuntimeError
    path = tmp_path / "refresh.lock"
    lock = FileRefreshLock(path)
    assert lock.acquire(1)  # the parent holds it at the fork
    try:
        assert _forked(lambda: lock.acquire(0)) is False  # the parent's hold is not the child's
        assert not FileRefreshLock(path).acquire(0)  # nor did the child end it
    finally:
        lock.release()
    assert _forked(lambda: lock.acquire(0)) is True


class _ComparedByValue(MemoryTokenStore):
    """A store an app compares by what it holds (so it is unhashable, as a dataclass is)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ComparedByValue) and self.load() == other.load()


class _AllEqual(MemoryTokenStore):
    """A store equal to every other, with one hash for all."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _AllEqual)

    def __hash__(self) -> int:
        return 0


def test_stores_an_app_compares_by_value_are_made_and_each_reset_in_a_child() -> None:
    # the resets were keyed by the stores themselves: a store with its own __eq__ could
    # not be made (a bare TypeError), and of equal stores only the first was reset
    assert _ComparedByValue(None).load() is None
    first, second = _AllEqual(None), _AllEqual(None)
    with _held_by_a_thread(first._lock, second._lock):
        assert _forked(lambda: [first.load(), second.load()]) == [None, None]


def _read_after_a_new_member() -> str:
    """In the child: read a workflow once a lazy union has built a member since the
    models were last rebuilt (the state a fork mid-rebuild leaves)."""
    from civitai_app_sdk_generated import _base

    _base._Freshness.built += 1
    return Workflow.model_validate({"id": "w1", "status": "succeeded"}).id or ""


def test_a_child_forked_while_a_thread_rebuilds_the_models_reads_them() -> None:
    # the lock of the lazy unions' rebuild, held by a parent's thread for the few ms of a
    # rebuild at the fork, stayed taken in the child: its next read waited for good
    from civitai_app_sdk_generated import _base

    with _held_by_a_thread(_base._Freshness.lock):
        assert _forked(_read_after_a_new_member) == "w1"


def test_the_models_keep_no_python_function_for_a_forked_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a Python function kept for the child keeps its module's globals alive to the end of
    # the interpreter: the exit of a process that read one workflow ran about 10M more
    # instructions (7% of what the SDK adds to its first read)
    from civitai_app_sdk_generated import _base

    kept: list[Any] = []
    monkeypatch.setattr(os, "register_at_fork", lambda **hooks: kept.extend(hooks.values()))
    spec = importlib.util.spec_from_file_location("_base_again", _base.__file__)
    assert spec is not None
    assert spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert kept
    assert not any(isinstance(hook, types.FunctionType) for hook in kept)


def test_a_child_forked_while_a_thread_derives_a_cookie_key_seals() -> None:
    # a sealer's key is derived once (scrypt: tens of ms) under its lock; held by a
    # parent's thread at the fork, it stayed taken in the child: its first seal waited
    sealer = CookieSealer("s" * 40)
    with _held_by_a_thread(sealer._lock):
        sealed = _forked(lambda: sealer.seal("tokens"))
    assert isinstance(sealed, str)
    assert sealer.unseal(sealed) == "tokens"


def test_a_child_forked_while_a_thread_shares_a_sealer_unseals_with_a_new_secret() -> None:
    # the lock of the process-wide sealers (by secret), held by a parent's thread adding
    # one at the fork, stayed taken in the child: its first new secret waited for good
    sealed = CookieSealer("n" * 40).seal("tokens")
    with _held_by_a_thread(cookies._shared_lock):
        assert _forked(lambda: cookies.unseal_cookie(sealed, "n" * 40)) == "tokens"


def test_a_child_forked_while_a_thread_stores_a_session_reads_it() -> None:
    store = MemorySessionStore(clock=lambda: NOW)
    asyncio.run(store.write("id", "tokens", max_age=60))
    with _held_by_a_thread(store._lock):
        assert _forked(lambda: asyncio.run(store.read("id"))) == "tokens"


def test_a_child_forked_while_a_thread_saves_into_a_cookie_store_reads_it() -> None:
    store = SealedCookieTokenStore(CookieSealer("c" * 40), None)
    store.save(TokenSet(access_token="a1", refresh_token="r1", expires_at=NOW + 60))

    def read() -> object:
        tokens = store.load()
        return tokens and tokens.access_token

    with _held_by_a_thread(store._lock):
        assert _forked(read) == "a1"


def test_a_child_forked_while_a_thread_parses_an_api_url_sends_its_requests(
    server: LocalServer,
) -> None:
    # the cache of parsed API URLs, its lock held by a parent's thread keeping one at
    # the fork: the child's first request to a URL not kept yet waited for good
    with OrchestratorClient(TOKEN, base_url=server.url) as client:
        workflow_id = client.submit(BODY).id or ""
        with _held_by_a_thread(_API_URLS._lock):
            assert _forked(lambda: client.get(workflow_id).id) == workflow_id


def test_a_child_forked_while_a_thread_builds_a_manifest_validator_checks_manifests() -> None:
    # a manifest schema's validator is built (tens of ms) under one module lock; held by
    # a parent's thread at the fork, it stayed taken in the child
    schema = {"type": "object", "required": ["name"]}
    with _held_by_a_thread(block_schema._validators_lock):
        found = _forked(lambda: [p.message for p in block_schema.schema_problems({}, schema)])
    assert found == ["'name' is a required property"]


def test_a_child_forked_while_a_thread_ends_a_trio_refresh_keeps_only_ended_ones() -> None:
    # a trio run's refresh is a concurrent future: its condition, held by a parent's
    # thread ending it at the fork, made the child wait inside os.fork() for good
    owner = app_core()
    ended, flying = RunFlight(object()), RunFlight(object())
    ended.set_result(tokens("a2", "r2", NOW + 60))
    owner._refreshes = {b"ended": (NOW + 60, ended), b"flying": (NOW + 60, flying)}
    with _held_by_a_thread(ended._condition, flying._condition):
        assert _forked(lambda: sorted(key.decode() for key in owner._refreshes)) == ["ended"]

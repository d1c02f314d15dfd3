"""Regressions from the adversarial audit of the request core (issue 20).

Each test failed on the code before its fix.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from core_helpers import API
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk._transport import Call, Settings, SyncTransport, is_loopback
from civitai_app_sdk.cli.auth import site_for
from civitai_app_sdk.errors import (
    CivitaiError,
    ConfigurationError,
    LocalFileError,
    OrchestratorError,
    PollTimeoutError,
    RateLimitError,
    RequestValidationError,
    ResponseValidationError,
)
from civitai_app_sdk.oauth import (
    DEFAULT_SITE_URL,
    LoginRequiredError,
    OAuthClient,
    OAuthError,
    fetch_me,
)
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.orchestrator.blobs import BlobExistsError
from civitai_app_sdk.web.errors import StateMismatchError

SECRET = "tok-SECRET-5d1e"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.evil.example",
        "http://127.0.0.1.evil.example",
        "http://127.0.0.1.nip.io:8080",
        "http://localhost.evil.example",
    ],
)
@pytest.mark.parametrize("kind", [OrchestratorClient, AsyncOrchestratorClient])
def test_a_name_that_starts_like_loopback_gets_no_token_over_http(kind: type, url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        kind(SECRET, base_url=url)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("LOCALHOST", True),
        ("127.255.255.254", True),
        ("app.localhost", False),  # may be resolved through DNS, to anywhere
        ("localhost.", False),
        ("localhost.localdomain", False),
        ("::ffff:127.0.0.1", False),
        ("[::ffff:127.0.0.1]", False),
        ("0.0.0.0", False),
        ("::", False),
        ("127.example", False),
        ("127.0.0.1.example", False),
        ("128.0.0.1", False),
        ("::2", False),
    ],
)
def test_is_loopback_reads_ip_literals(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(label=LABEL, dots=st.sampled_from([".localhost", ".LOCALHOST", ".localhost."]))
def test_no_localhost_subdomain_is_loopback(label: str, dots: str) -> None:
    assert not is_loopback(label + dots)


@given(address=st.ip_addresses())
def test_only_127_slash_8_and_ipv6_one_are_loopback(address: Any) -> None:
    expected = (address.version == 4 and address.packed[0] == 127) or str(address) == "::1"
    assert is_loopback(str(address)) is expected
    if address.version == 6:
        assert is_loopback(f"[{address}]") is expected


def test_url_checks_ask_about_loopback_without_loading_the_http_stack() -> None:
    code = "import sys, civitai_app_sdk.oauth.urls; print({'httpx', 'anyio'} & set(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "set()"  # the transport (and httpx) is ~100 ms to import


@pytest.mark.parametrize(
    "url", ["http://app.localhost:9", "http://x.y.localhost", "http://localhost.:9"]
)
@pytest.mark.parametrize("kind", [OrchestratorClient, AsyncOrchestratorClient])
def test_the_orchestrator_sends_no_token_over_http_to_a_localhost_subdomain(
    kind: type, url: str
) -> None:
    with pytest.raises(ConfigurationError, match="https") as info:
        kind(SECRET, base_url=url)
    assert SECRET not in str(info.value)


def test_a_calls_own_token_goes_over_http_to_no_localhost_subdomain() -> None:
    sent: list[httpx.Request] = []
    settings = Settings.create(token=None, token_env=None, base_url="http://app.localhost")
    transport = SyncTransport(settings, transport=httpx.MockTransport(sent.append))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="plain http"):
        transport.send(attrs.evolve(Call("GET", "/x"), token=SECRET))
    assert sent == []


@pytest.mark.parametrize("url", ["http://app.localhost", "http://auth.localhost:3000"])
def test_oauth_sends_no_secret_or_token_over_http_to_a_localhost_subdomain(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        OAuthClient("app", "client-secret", base_url=url)
    with pytest.raises(ConfigurationError, match="https"):
        fetch_me(SECRET, site_url=url)
    assert site_for(url) == DEFAULT_SITE_URL  # the CLI never checks a key there either


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@api.example",
        "https://api.example#frag",
        "https://api.example/#",
        "https://api.example?x=1",
        "https://api.example/prefix?",
    ],
)
@pytest.mark.parametrize("kind", [OrchestratorClient, AsyncOrchestratorClient])
def test_a_base_url_with_credentials_query_or_fragment_is_refused(kind: type, url: str) -> None:
    # before: the request path went into the fragment or query (another resource was
    # addressed) and userinfo replaced the bearer token with Basic credentials
    with pytest.raises(ConfigurationError, match="credentials, a query or a fragment"):
        kind(SECRET, base_url=url)


def test_a_base_url_with_a_path_prefix_is_still_accepted() -> None:
    client = OrchestratorClient(SECRET, base_url="https://proxy.example/orch/")
    assert client.settings.base_url == "https://proxy.example/orch"
    client.close()


DEEP = b"[" * 100_000 + b"]" * 100_000


def _orchestrator(status: int, body: bytes) -> OrchestratorClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return OrchestratorClient(
        SECRET, base_url=API, transport=httpx.MockTransport(answer), max_retries=0
    )


@pytest.mark.parametrize("status", [200, 400, 500])
def test_json_nested_too_deeply_is_a_typed_error_not_recursion(status: int) -> None:
    # before: RecursionError escaped from error_for / parse_body
    with _orchestrator(status, DEEP) as client, pytest.raises(OrchestratorError) as info:
        client.get("wf-1")
    assert isinstance(info.value.body, str)


@pytest.mark.parametrize("status", [200, 400])
def test_oauth_json_nested_too_deeply_is_an_oauth_error(status: int) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=DEEP)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OAuthClient("app", site_url="https://civitai.test", http_client=http, max_retries=0)
    with pytest.raises(OAuthError):
        client.fetch_me(SECRET)


CAPABILITY = "CAPtokenXYZ987"


def test_a_server_echoing_the_token_or_a_capability_url_does_not_put_them_in_the_error() -> None:
    problem = {
        "title": f"bad credentials Bearer-less {SECRET}",
        "detail": f"see https://cdn.test/v2/consumer/blobs/content/{CAPABILITY}",
    }
    body = json.dumps(problem).encode()
    with _orchestrator(500, body) as client, pytest.raises(OrchestratorError) as info:
        client.get("wf-1")
    shown = f"{info.value} {info.value!r}"
    assert SECRET not in shown
    assert CAPABILITY not in shown
    assert "failed with HTTP 500" in shown


def test_an_oauth_error_echoing_the_bearer_token_masks_it() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"error": "invalid_token", "error_description": f"token {SECRET} expired"}
        )

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OAuthClient("app", site_url="https://civitai.test", http_client=http, max_retries=0)
    with pytest.raises(OAuthError) as info:
        client.fetch_me(SECRET)
    assert SECRET not in f"{info.value} {info.value!r}"
    assert "expired" in str(info.value)


def _recording() -> tuple[list[httpx.Request], httpx.MockTransport, httpx.MockTransport]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "wf-1", "status": "succeeded"})

    return sent, httpx.MockTransport(answer), httpx.MockTransport(answer)


def _both(call: Callable[[Any], Any]) -> list[BaseException]:
    """Run ``call`` on a sync and an async client; the exceptions each raised."""
    sent, sync_mock, async_mock = _recording()
    raised: list[BaseException] = []
    with OrchestratorClient(SECRET, base_url=API, transport=sync_mock) as client:
        try:
            call(client)
        except Exception as exc:
            raised.append(exc)

    async def run() -> None:
        async with AsyncOrchestratorClient(SECRET, base_url=API, transport=async_mock) as aclient:
            try:
                await call(aclient)
            except Exception as exc:
                raised.append(exc)

    asyncio.run(run())
    assert not sent, "nothing may be sent for a bad argument"
    return raised


@pytest.mark.parametrize("query", [5, [("a",)], [("a", 1)], {"a": 1}, "ab"])
def test_a_bad_extra_query_is_a_request_validation_error(query: object) -> None:
    raised = _both(lambda c: c.get("wf-1", extra_query=query))
    assert len(raised) == 2
    assert all(isinstance(e, RequestValidationError) for e in raised), raised


@pytest.mark.parametrize("body", [None, [1, 2], "steps", b"{}", 5])
@pytest.mark.parametrize("method", ["submit", "estimate"])
def test_a_body_that_is_no_mapping_is_a_request_validation_error(method: str, body: object) -> None:
    raised = _both(lambda c: getattr(c, method)(body))
    assert len(raised) == 2
    assert all(isinstance(e, RequestValidationError) for e in raised), raised


@pytest.mark.parametrize(
    "keywords", [{"interval": "1"}, {"timeout": "5"}, {"interval": None}, {"timeout": True}]
)
def test_poll_with_a_non_number_duration_is_a_request_validation_error(
    keywords: dict[str, Any],
) -> None:
    raised = _both(lambda c: c.poll("wf-1", **keywords))
    assert len(raised) == 2
    assert all(isinstance(e, RequestValidationError) for e in raised), raised


@pytest.mark.parametrize("where", ["dir", "path"])
@pytest.mark.parametrize("value", ["", "out\0.png", 5, b"out.png"])
def test_download_to_a_path_the_os_cannot_open_is_refused_before_sending(
    where: str, value: object
) -> None:
    raised = _both(lambda c: c.download_blob("blob-1", **{where: value}))
    assert len(raised) == 2
    assert all(isinstance(e, CivitaiError) for e in raised), raised


@pytest.mark.parametrize("where", ["dir", "path"])
def test_download_to_a_file_name_too_long_is_a_local_file_error(tmp_path: Path, where: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"png", headers={"content-type": "image/png"})

    target = tmp_path / ("a" * 300)  # no suffix: even looking at it fails (ENAMETOOLONG)
    client = OrchestratorClient(SECRET, base_url=API, transport=httpx.MockTransport(answer))
    with client, pytest.raises(LocalFileError):
        client.download_blob("b" * 300 if where == "dir" else "blob-1", **{where: target})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_blob("b", workflow_id=object()),
        lambda c: c.get_blob("b", nsfw_level=3),
        lambda c: c.download_blob("b", path="out.png", workflow_id=7),
        lambda c: c.list(tags=["ok", 5]),
        lambda c: c.list(query=b"cat"),
        lambda c: c.list(cursor=12),
        lambda c: c.list(ascending="false"),
        lambda c: c.list(exclude_failed=0),
        lambda c: c.get("wf-1", hide_mature_content="no"),
    ],
)
def test_query_values_of_the_wrong_type_are_refused_not_stringified(
    call: Callable[[Any], Any],
) -> None:
    # before: str(object()) was sent, and ascending="false" was sent as "true"
    raised = _both(call)
    assert len(raised) == 2
    assert all(isinstance(e, RequestValidationError) for e in raised), raised


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_httpx_and_httpcore_lines_about_a_blob_redirect_hold_no_capability(
    level: int, caplog: pytest.LogCaptureFixture
) -> None:
    # an app logging at INFO saw httpx print the content URL a blob redirect led to;
    # at DEBUG httpcore printed the Location header
    def answer(request: httpx.Request) -> httpx.Response:
        if "/content/" in request.url.path:
            return httpx.Response(200, content=b"png", headers={"content-type": "image/png"})
        location = f"{API}/v2/consumer/blobs/content/{CAPABILITY}?sig={CAPABILITY}"
        return httpx.Response(302, headers={"location": location})

    caplog.set_level(level)
    client = OrchestratorClient(SECRET, base_url=API, transport=httpx.MockTransport(answer))
    with client:
        assert client.get_blob("blob-1") == b"png"
    for record in caplog.records:
        logging.Formatter().format(record)  # what any handler would print
    text = caplog.text
    assert "blobs/content/***" in text
    assert CAPABILITY not in text
    assert SECRET not in text


def test_httpcore_trace_lines_are_redacted_once_a_client_exists(
    caplog: pytest.LogCaptureFixture,
) -> None:
    OrchestratorClient(SECRET, base_url=API).close()
    caplog.set_level(logging.DEBUG)
    headers = [(b"Location", f"/v2/consumer/blobs/content/{CAPABILITY}".encode())]
    logging.getLogger("httpcore.http11").debug(
        "receive_response_headers.complete return_value=%r", (b"HTTP/1.1", 302, headers)
    )
    assert caplog.records
    assert CAPABILITY not in caplog.text


def test_a_2xx_body_that_does_not_fit_carries_the_response_and_request_id() -> None:
    # before: ResponseValidationError had no status, headers, request id or response
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[1, 2], headers={"x-request-id": "req-77"})

    client = OrchestratorClient(SECRET, base_url=API, transport=httpx.MockTransport(answer))
    with client, pytest.raises(ResponseValidationError) as info:
        client.get("wf-1")
    error = info.value
    assert error.status_code == 200
    assert error.request_id == "req-77"
    assert error.headers["x-request-id"] == "req-77"
    assert error.response is not None
    assert error.body == [1, 2]


@pytest.mark.parametrize("name", ["X-A:b", "X A", "X-(a)", "", "X-\u00e4", "X/A"])
def test_an_extra_header_name_that_is_no_token_is_refused_before_sending(name: str) -> None:
    # before: "X-A:b" passed the check and failed in h11 at send time, then was retried
    raised = _both(lambda c: c.get("wf-1", extra_headers={name: "1"}))
    assert len(raised) == 2
    assert all(isinstance(e, RequestValidationError) for e in raised), raised


def _pages() -> tuple[list[httpx.Request], httpx.MockTransport]:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        cursor = request.url.params.get("cursor", "c0")
        n = int(cursor[1:]) + 1
        return httpx.Response(
            200,
            json={
                "items": [{"id": f"w{n}", "status": "succeeded"}],
                "next": f"c{n}" if n < 3 else None,
            },
        )

    return asked, httpx.MockTransport(answer)


def test_iter_workflows_resumes_from_a_cursor_sync_and_async() -> None:
    # before: iter_workflows(cursor=...) raised TypeError ("multiple values for cursor")
    asked, mock = _pages()
    with OrchestratorClient(SECRET, base_url=API, transport=mock) as client:
        assert [w.id for w in client.iter_workflows(cursor="c1", take=1)] == ["w2", "w3"]
    assert [r.url.params.get("cursor") for r in asked] == ["c1", "c2"]

    async def run() -> list[str]:
        _, amock = _pages()
        async with AsyncOrchestratorClient(SECRET, base_url=API, transport=amock) as client:
            return [w.id async for w in client.iter_workflows(cursor="c1")]

    assert asyncio.run(run()) == ["w2", "w3"]


def _pickled_errors() -> list[CivitaiError]:
    return [
        PollTimeoutError("still running", last={"id": "wf-1"}),
        RequestValidationError(["/steps: bad", "/tags: worse"], "workflow body"),
        LoginRequiredError("sign in again", status=401),
        OAuthError("invalid_grant", "refused", status=400),
        BlobExistsError(Path("/tmp/out.png")),
        LocalFileError(errno.ENOSPC, "cannot write out.png: no space"),
        StateMismatchError("This sign-in could not be verified."),
        RateLimitError("slow down", retry_after=3.0, status=429),
    ]


@pytest.mark.parametrize("error", _pickled_errors(), ids=lambda e: type(e).__name__)
def test_every_error_survives_pickling(error: CivitaiError) -> None:
    # before: LoginRequiredError, PollTimeoutError and BlobExistsError could not be
    # unpickled (TypeError), so they broke multiprocessing and job queues
    error.external_id = "sdk-key"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert copy.external_id == "sdk-key"
    for name in ("last", "problems", "path", "status", "retry_after", "errno"):
        assert getattr(copy, name, None) == getattr(error, name, None)

"""Error mapping and the retry policy: only safe calls are repeated, never a paid submit."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from civitai_app_sdk import errors
from civitai_app_sdk.orchestrator import OrchestratorClient, build_text_to_image_body

BODY = build_text_to_image_body({"prompt": "a cat"})
HTML = "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"
WF = "/v2/consumer/workflows/w1"
BASE_URL = "https://orch.test"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.BadRequestError),
        (401, errors.UnauthorizedError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.UnprocessableError),
        (500, errors.ServerError),
    ],
)
def test_status_maps_to_error_and_is_final(client: Any, api: Any, status: int, kind: type) -> None:
    problem = {"title": "Nope", "detail": "bad thing", "traceId": "00-abc"}
    route = api.get(WF).respond(status, json=problem)
    with pytest.raises(kind) as info:
        client.get("w1")
    assert route.call_count == 1
    assert info.value.status == status
    assert info.value.problem == problem
    assert info.value.request_id == "00-abc"
    assert "bad thing" in str(info.value)


def test_validation_problem_lists_fields(client: Any, api: Any) -> None:
    body = {"title": "One or more validation errors", "errors": {"steps[0].input": ["bad"]}}
    api.post("/v2/consumer/workflows").respond(400, json=body)
    with pytest.raises(errors.BadRequestError, match=r"steps\[0\]\.input: bad"):
        client.submit(BODY)


def test_submit_403_bare_string_is_insufficient_buzz(client: Any, api: Any) -> None:
    api.post("/v2/consumer/workflows").respond(403, json="Insufficient buzz")
    with pytest.raises(errors.InsufficientBuzzError, match="Insufficient buzz") as info:
        client.submit(BODY)
    assert isinstance(info.value, errors.ForbiddenError)
    assert "Top up Buzz" in str(info.value)


def test_get_retries_gateway_pages_then_succeeds(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(WF).mock(
        side_effect=[
            httpx.Response(502, text=HTML, headers={"content-type": "text/html"}),
            httpx.Response(500, text=HTML),
            httpx.Response(503),
            httpx.Response(200, json=make_workflow()),
        ]
    )
    assert client.get("w1").status == "processing"
    assert route.call_count == 4
    assert len(clock.sleeps) == 3
    assert all(0 < s <= 30 for s in clock.sleeps)


def test_retries_are_bounded(client: Any, api: Any) -> None:
    route = api.get(WF).respond(504, text=HTML)
    with pytest.raises(errors.ServerError, match="HTML error page") as info:
        client.get("w1")
    assert route.call_count == 4
    assert info.value.body_text is not None
    assert "Bad Gateway" in info.value.body_text
    assert info.value.body == info.value.body_text  # not JSON: 0.14 keeps the text


def test_429_honours_retry_after(client: Any, api: Any, make_workflow: Any, clock: Any) -> None:
    api.get(WF).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"title": "slow"}),
            httpx.Response(200, json=make_workflow()),
        ]
    )
    client.get("w1")
    assert clock.sleeps == [7.0]


def test_429_with_long_retry_after_raises_with_it(client: Any, api: Any) -> None:
    api.get(WF).respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(errors.RateLimitError) as info:
        client.get("w1")
    assert info.value.retry_after == 3600.0


def test_transport_error_retried_on_get(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.get(WF).mock(
        side_effect=[httpx.ReadError("reset"), httpx.Response(200, json=make_workflow())]
    )
    client.get("w1")
    assert route.call_count == 2


def test_timeout_error_after_retries(client: Any, api: Any) -> None:
    api.get(WF).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.RequestTimeoutError):
        client.get("w1")


@pytest.mark.parametrize(
    "outcome",
    [httpx.ReadError("lost"), httpx.ReadTimeout("lost"), httpx.Response(503), httpx.Response(429)],
)
def test_submit_without_external_id_is_never_retried(client: Any, api: Any, outcome: Any) -> None:
    route = api.post("/v2/consumer/workflows").mock(side_effect=[outcome, httpx.Response(200)])
    with pytest.raises(errors.OrchestratorError) as caught:
        client.submit(BODY, idempotent=False)
    assert route.call_count == 1
    assert caught.value.external_id is None


def test_submit_retried_when_it_never_left(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.post("/v2/consumer/workflows").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=make_workflow())]
    )
    client.submit(BODY)
    assert route.call_count == 2


def test_idempotent_submit_reuses_one_external_id(
    client: Any, api: Any, make_workflow: Any
) -> None:
    route = api.post("/v2/consumer/workflows").mock(
        side_effect=[
            httpx.ReadError("lost"),
            httpx.Response(503),
            httpx.Response(200, json=make_workflow()),
        ]
    )
    client.submit(BODY, idempotent=True)
    assert route.call_count == 3
    ids = {json.loads(call.request.content)["externalId"] for call in route.calls}
    assert len(ids) == 1


def test_explicit_external_id_is_sent(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.post("/v2/consumer/workflows").respond(200, json=make_workflow())
    client.submit(BODY, external_id="order-42")
    assert json.loads(route.calls.last.request.content)["externalId"] == "order-42"
    with pytest.raises(errors.RequestValidationError):
        client.submit(BODY, external_id="bad id!")


def test_estimate_drops_external_id(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.post("/v2/consumer/workflows").respond(200, json=make_workflow("unassigned"))
    client.estimate({**BODY, "externalId": "order-42"})
    assert "externalId" not in json.loads(route.calls.last.request.content)


def test_unreadable_success_body(client: Any, api: Any) -> None:
    api.get(WF).respond(200, json={"status": 5, "steps": "nope"})
    with pytest.raises(errors.ResponseValidationError) as info:
        client.get("w1")
    assert info.value.body == {"status": 5, "steps": "nope"}
    assert info.value.body_text == '{"status":5,"steps":"nope"}'


def test_header_injection_rejected() -> None:
    with pytest.raises(ValueError, match="header"):
        OrchestratorClient("tok\r\nX-Evil: 1")
    with pytest.raises(ValueError, match="user_agent"):
        OrchestratorClient("tok", user_agent="ua\nX: y")
    with pytest.raises(ValueError, match="finite"):
        OrchestratorClient("tok", timeout=float("inf"))
    with pytest.raises(ValueError, match="http"):
        OrchestratorClient("tok", base_url="ftp://x")


def test_missing_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVITAI_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match="CIVITAI_API_TOKEN"):
        OrchestratorClient()


def test_token_provider_called_per_attempt(api: Any, make_workflow: Any, clock: Any) -> None:
    class Provider:
        def __init__(self) -> None:
            self.n = 0

        def get_token(self) -> str:
            self.n += 1
            return f"tok{self.n}"

        async def aget_token(self) -> str:
            return self.get_token()

    route = api.get(WF).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=make_workflow())]
    )
    provider = Provider()
    with OrchestratorClient(provider, base_url="https://orch.test", sleep=clock.sleep) as c:
        c.get("w1")
    assert [call.request.headers["authorization"] for call in route.calls] == [
        "Bearer tok1",
        "Bearer tok2",
    ]


@pytest.mark.anyio
async def test_async_token_provider_and_bad_token(api: Any, make_workflow: Any) -> None:
    from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

    class Provider:
        def get_token(self) -> str:
            raise AssertionError("the async client must await aget_token")

        async def aget_token(self) -> str:
            return "async-tok"

    route = api.get(WF).respond(200, json=make_workflow())
    async with AsyncOrchestratorClient(Provider(), base_url="https://orch.test") as c:
        await c.get("w1")
    assert route.calls.last.request.headers["authorization"] == "Bearer async-tok"

    class Evil(Provider):
        async def aget_token(self) -> str:
            return "tok\nX-Evil: 1"

    async with AsyncOrchestratorClient(Evil(), base_url="https://orch.test") as c:
        with pytest.raises(ValueError, match="header"):
            await c.get("w1")
    assert route.call_count == 1


def test_logs_redact_token_and_signatures(
    client: Any, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api.get("/v2/consumer/blobs/B.png").respond(200, content=b"x")
    caplog.set_level(logging.DEBUG, logger="civitai_app_sdk")
    client.get_blob("B.png", workflow_id="w1")
    text = caplog.text
    assert "B.png" in text
    assert "0123456789abcdef" not in text
    assert "'authorization': '***'" in text


def test_redact_helpers() -> None:
    from civitai_app_sdk._redact import redact

    assert redact({"Authorization": "Bearer x", "A": "b"}) == {
        "Authorization": "***",
        "A": "b",
    }
    assert redact("https://h/b?sig=SECRET&exp=1") == "https://h/b?sig=***&exp=1"


def test_raw_responses_expose_headers(client: Any, api: Any, make_workflow: Any) -> None:
    api.get(WF).respond(200, json=make_workflow(), headers={"x-request-id": "r-1"})
    with client.raw_responses() as raw:
        client.get("w1")
    assert raw.last.headers["x-request-id"] == "r-1"
    assert len(raw.responses) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_keyed_submit_is_not_retried_on_final_answers(client: Any, api: Any, status: int) -> None:
    route = api.post("/v2/consumer/workflows").mock(
        side_effect=[httpx.Response(status, json={"title": "no"}), httpx.Response(200)]
    )
    with pytest.raises(errors.OrchestratorError) as info:
        client.submit(BODY, external_id="order-1")
    assert info.value.status == status
    assert route.call_count == 1


def test_json_500_is_not_retried_even_on_get(client: Any, api: Any) -> None:
    route = api.get(WF).respond(500, json={"title": "boom"})
    with pytest.raises(errors.ServerError) as info:
        client.get("w1")
    assert route.call_count == 1
    assert "a 500 is not retried" in str(info.value)  # the hint says what was done


def test_estimate_is_a_whatif_and_may_be_retried(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.post("/v2/consumer/workflows").mock(
        side_effect=[httpx.ReadError("lost"), httpx.Response(200, json=make_workflow("unassigned"))]
    )
    client.estimate(BODY)
    assert route.call_count == 2
    assert all(call.request.url.params["whatif"] == "true" for call in route.calls)


def test_backoff_is_exponential_jittered_and_capped() -> None:
    from civitai_app_sdk._transport import Call, Settings

    retry_delay = Settings.create(token="t", base_url=BASE_URL, max_retries=50).retry.delay
    call = Call("GET", "/x")
    lost = httpx.ReadError("lost")
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2.0**attempt)
        delays = {retry_delay(call, attempt, error=lost) for _ in range(40)}
        assert all(d is not None and ceiling * 0.5 <= d <= ceiling for d in delays)
        assert len(delays) > 1, "no jitter"
    assert retry_delay(call, 50, error=lost) is None


def test_retry_after_http_date_and_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    import email.utils
    import time

    from civitai_app_sdk._transport import Call, Settings

    retry_delay = Settings.create(token="t", base_url=BASE_URL).retry.delay
    call = Call("GET", "/x")
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    dated = httpx.Response(503, headers={"Retry-After": when})
    delay = retry_delay(call, 0, response=dated)
    assert delay is not None
    assert 15 <= delay <= 21
    too_long = httpx.Response(429, headers={"Retry-After": "61"})
    assert retry_delay(call, 0, response=too_long) is None
    keyless = Call("POST", "/x", idempotent=False)
    assert retry_delay(keyless, 0, response=httpx.Response(429)) is None


SECRET = "tok-SECRET-4f1e9a7c2b"


def test_token_never_in_logs_reprs_or_errors(
    api: Any, caplog: pytest.LogCaptureFixture, clock: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get(WF).mock(
        side_effect=[
            httpx.ReadError("reset"),
            httpx.Response(503, text=HTML),
            httpx.Response(401, json={"title": "Unauthorized"}),
        ]
    )
    api.post("/v2/consumer/workflows").mock(side_effect=httpx.ConnectError("refused"))
    raised: list[errors.OrchestratorError] = []
    with OrchestratorClient(SECRET, base_url=BASE_URL, sleep=clock.sleep) as c:
        for action in (lambda: c.get("w1"), lambda: c.submit(BODY)):
            with pytest.raises(errors.OrchestratorError) as info:
                action()
            raised.append(info.value)
        shown = [repr(c), repr(c.settings), str(c.settings)]
    shown += [str(e) for e in raised] + [repr(e) for e in raised]
    shown += [str(e.__cause__) for e in raised if e.__cause__ is not None]
    shown += [str(e.headers) + str(e.body_text) + str(e.body) + str(e.problem) for e in raised]
    assert "retrying" in caplog.text
    for text in [caplog.text, *shown]:
        assert SECRET not in text


def test_a_submit_cut_short_by_the_caller_still_gives_the_key(
    client: Any, api: Any, make_workflow: Any
) -> None:
    """Ctrl-C (sync) or a cancellation (``asyncio.timeout`` around an async submit) may
    land after the server charged: the exception still carries the idempotency key, and
    submitting again with it is the safe retry."""
    import anyio

    from civitai_app_sdk.orchestrator import AsyncOrchestratorClient

    keys: list[str] = []

    def interrupt(request: httpx.Request) -> httpx.Response:
        keys.append(json.loads(request.content)["externalId"])
        raise KeyboardInterrupt

    route = api.post("/v2/consumer/workflows").mock(side_effect=interrupt)
    with pytest.raises(KeyboardInterrupt) as interrupted:
        client.submit(BODY)
    key = keys[-1]
    assert interrupted.value.external_id == key  # type: ignore[attr-defined]
    assert key in "".join(interrupted.value.__notes__)

    async def slow(request: httpx.Request) -> httpx.Response:
        keys.append(json.loads(request.content)["externalId"])
        await anyio.sleep(5)
        return httpx.Response(200, json=make_workflow())

    async def cut_short() -> BaseException | None:
        route.mock(side_effect=slow)
        async with AsyncOrchestratorClient("tok", base_url=BASE_URL) as aclient:
            with pytest.raises(TimeoutError) as timed_out:
                with anyio.fail_after(0.05):
                    await aclient.submit(BODY)
        return timed_out.value.__context__  # the cancellation the submit ended with

    cancelled = anyio.run(cut_short)
    assert cancelled is not None
    key = keys[-1]
    assert cancelled.external_id == key  # type: ignore[attr-defined]
    assert "submit(body, external_id=exc.external_id)" in "".join(cancelled.__notes__)


@pytest.mark.parametrize(("header", "expected"), [("nan", None), ("inf", None), ("-3", 0.0)])
def test_nonsense_retry_after_is_no_delay_to_wait_for(
    client: Any, api: Any, clock: Any, header: str, expected: float | None
) -> None:
    """``float()`` reads "nan" and "inf": they are not a delay (``retry_after`` None), and
    no header value makes a retry come sooner than the SDK's own backoff."""
    api.get(WF).respond(429, headers={"Retry-After": header})
    with pytest.raises(errors.RateLimitError) as info:
        client.get("w1")
    assert info.value.retry_after == expected
    assert len(clock.sleeps) == 3
    assert all(pause >= 0.25 for pause in clock.sleeps)

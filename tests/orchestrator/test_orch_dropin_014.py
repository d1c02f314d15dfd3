"""What a port of a 0.14 TypeScript app relies on, taken from 0.14's documented behaviour
(app-sdk.md section 4): snapshot shapes, bodies sent as given, lenient snapshots, the poll
interval and the parsed error body."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from civitai_app_sdk_generated import Workflow
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.errors import ForbiddenError, OrchestratorError, ServerError
from civitai_app_sdk.orchestrator import (
    AsyncOrchestratorClient,
    extract_image_urls,
    poll_workflow,
)

WORKFLOWS = "/v2/consumer/workflows"


def _node_extract_image_urls(snapshot: Any) -> list[str]:
    """0.14's extractImageUrls, transcribed from its documented rules (section 4.6)."""
    urls: list[str] = []
    if not snapshot or not snapshot.get("steps"):
        return urls
    for step in snapshot["steps"]:
        output = step.get("output") or {}
        for image in output.get("images") or []:
            if image.get("available") and image.get("url"):
                urls.append(image["url"])
        for blob in output.get("blobs") or []:
            mime = blob.get("mimeType")
            kind = mime if mime is not None else blob.get("type")
            if blob.get("url") and (kind or "").startswith("image/"):
                urls.append(blob["url"])
    return urls


SNAPSHOT_014 = {
    "id": "wf-1",
    "status": "succeeded",
    "steps": [
        {
            "output": {
                "images": [
                    {"url": "https://i.test/a.png", "available": True},
                    {"url": "https://i.test/hidden.png", "available": False},
                    {"url": "https://i.test/a.png", "available": True},  # duplicate kept
                    {"available": True},  # no url
                ],
                "blobs": [
                    {"url": "https://i.test/b.webp", "mimeType": "image/webp"},
                    {"url": "https://i.test/v.mp4", "mimeType": "video/mp4"},
                    {"url": "https://i.test/c.jpg", "type": "image/jpeg"},  # type fallback
                    {"url": "https://i.test/d.png", "mimeType": "", "type": "image/png"},
                ],
            }
        },
        {"output": {"blobs": [{"url": "https://i.test/e.png", "mimeType": "image/png"}]}},
    ],
}


def test_extract_image_urls_reads_014_snapshots_in_014_order() -> None:
    expected = [
        "https://i.test/a.png",
        "https://i.test/a.png",
        "https://i.test/b.webp",
        "https://i.test/c.jpg",
        "https://i.test/e.png",
    ]
    assert extract_image_urls(SNAPSHOT_014) == expected
    assert _node_extract_image_urls(SNAPSHOT_014) == expected
    assert extract_image_urls({"id": "x", "status": "succeeded"}) == []
    assert extract_image_urls({"steps": [None, *SNAPSHOT_014["steps"]]}) == expected  # null step


_image_014 = st.fixed_dictionaries(
    {"url": st.sampled_from(["https://i.test/1", "https://i.test/2", ""])},
    optional={"available": st.booleans()},
)
_blob_014 = st.fixed_dictionaries(
    {"url": st.sampled_from(["https://i.test/3", "https://i.test/1", ""])},
    optional={
        "mimeType": st.sampled_from(["image/png", "video/mp4", "", "audio/wav", None]),
        "type": st.sampled_from(["image/jpeg", "video", None]),
    },
)
_step_014 = st.fixed_dictionaries(
    {},
    optional={
        "output": st.fixed_dictionaries(
            {}, optional={"images": st.lists(_image_014), "blobs": st.lists(_blob_014)}
        )
    },
)


@given(st.lists(_step_014, max_size=4))
def test_extract_image_urls_matches_014_on_its_shapes(steps: list[dict[str, Any]]) -> None:
    snapshot = {"id": "w", "status": "succeeded", "steps": steps}
    assert extract_image_urls(snapshot) == _node_extract_image_urls(snapshot)


def test_api_shaped_snapshots_keep_order_and_duplicates(make_workflow: Any) -> None:
    data = make_workflow("succeeded")
    image = data["steps"][0]["output"]["images"][0]
    data["steps"][0]["output"]["images"] = [image, image]
    model = Workflow.model_validate(data)
    assert extract_image_urls(model) == extract_image_urls(data) == [image["url"]] * 2


@pytest.mark.parametrize("method", ["estimate", "submit"])
def test_bodies_are_sent_as_given(client: Any, api: Any, make_workflow: Any, method: str) -> None:
    route = api.post(WORKFLOWS).respond(200, json=make_workflow("unassigned"))
    body = {
        "steps": [{"$type": "textToImage", "input": {"prompt": "a cat", "cfgScale": 5}}],
        "tags": ["t"],
    }
    getattr(client, method)(body)
    sent = json.loads(route.calls.last.request.content)
    assert "currencies" not in sent
    if method == "submit":  # the one addition: the idempotency key every submit carries
        assert sent.pop("externalId").startswith("sdk-")
    assert sent == body  # nothing else added, nothing renamed


@pytest.mark.parametrize(
    "snapshot",
    [
        {"id": "w", "status": "processing"},
        {"id": "w", "status": "succeeded", "steps": []},
        {"id": "w", "status": "unassigned", "cost": {"total": 3}},
    ],
)
def test_snapshots_without_cost_or_steps_parse(client: Any, api: Any, snapshot: Any) -> None:
    api.get(f"{WORKFLOWS}/w").respond(200, json=snapshot)
    workflow = client.get("w")
    assert workflow.status == snapshot["status"]
    assert workflow.steps == []
    assert (workflow.cost is None) == ("cost" not in snapshot)
    assert extract_image_urls(workflow) == []


def _early_answers(make_workflow: Any, pending: int) -> list[httpx.Response]:
    """Answers that come back at once (the server ignores ``wait``), then a final one."""
    return [httpx.Response(202, json=make_workflow())] * pending + [
        httpx.Response(200, json=make_workflow("succeeded"))
    ]


def test_poll_interval_is_the_floor_of_the_backoff(
    client: Any, api: Any, make_workflow: Any, clock: Any
) -> None:
    route = api.get(f"{WORKFLOWS}/w1").mock(side_effect=_early_answers(make_workflow, 3))
    done = poll_workflow(client, "w1", interval=4.0, timeout=60.0)
    assert done.status == "succeeded"
    assert route.call_count == 4
    assert clock.sleeps == [4.0, 4.0, 5.0]  # max(interval, 1 s, 2 s, 5 s schedule)


@pytest.mark.anyio
async def test_async_poll_interval(aclient: Any, api: Any, make_workflow: Any, clock: Any) -> None:
    api.get(f"{WORKFLOWS}/w1").mock(side_effect=_early_answers(make_workflow, 2))
    assert isinstance(aclient, AsyncOrchestratorClient)
    done = await poll_workflow(aclient, "w1", interval=0.25, timeout=30.0)
    assert done.status == "succeeded"
    assert clock.sleeps == [1.0, 2.0]  # a small interval leaves the schedule as it is


def test_poll_interval_must_be_seconds(client: Any) -> None:
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="interval"):
            poll_workflow(client, "w1", interval=bad)


@pytest.mark.parametrize(
    ("status", "content", "expected", "kind"),
    [
        (
            400,
            b'{"title":"bad","errors":{"steps":["x"]}}',
            {"title": "bad", "errors": {"steps": ["x"]}},
            OrchestratorError,
        ),
        (403, b'"Insufficient buzz"', "Insufficient buzz", ForbiddenError),  # a read: no Buzz
        (404, b"", None, OrchestratorError),
        (502, b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>", ServerError),
    ],
    ids=["problem", "bare-string", "empty", "html"],
)
def test_error_body_is_parsed_json_as_in_014(
    client: Any, api: Any, status: int, content: bytes, expected: object, kind: type
) -> None:
    """0.14 section 4.2: body text -> JSON if non-empty (else null; unparsable -> text)."""
    api.get(f"{WORKFLOWS}/w").respond(status, content=content)
    with pytest.raises(kind) as info:
        client.get("w")
    assert info.value.body == expected
    assert info.value.body_text == content.decode()

"""Path values can never change which resource a request addresses (issue 13, item 2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.errors import CivitaiError, RequestValidationError
from civitai_app_sdk.orchestrator import OrchestratorClient, calls
from civitai_app_sdk.orchestrator.calls import segment

BASE = "https://orch.test"
VALID = st.text(min_size=1).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
TEXT = VALID.filter(lambda s: s.strip("."))
"""Any text a path may hold: not empty, no lone surrogate, not dots only."""
DOTS = st.integers(1, 12).map(lambda n: "." * n)


def _sent_path(operation: calls.Operation[Any]) -> list[str]:
    request = httpx.Request(operation.call.method, BASE + operation.call.path)
    return request.url.raw_path.decode("ascii").split("?")[0].split("/")


@given(workflow_id=TEXT, tag=TEXT, step=TEXT, blob=TEXT)
def test_every_path_keeps_exactly_the_template_segments(
    workflow_id: str, tag: str, step: str, blob: str
) -> None:
    cases: list[tuple[calls.Operation[Any], list[str]]] = [
        (
            calls.remove_tag(workflow_id, tag),
            ["v2", "consumer", "workflows", workflow_id, "tags", tag],
        ),
        (
            calls.get_step(workflow_id, step),
            ["v2", "consumer", "workflows", workflow_id, "steps", step],
        ),
        (calls.cancel(workflow_id), ["v2", "consumer", "workflows", workflow_id]),
        (calls.get(workflow_id), ["v2", "consumer", "workflows", workflow_id]),
        (calls.add_tag(workflow_id, tag), ["v2", "consumer", "workflows", workflow_id, "tags"]),
        (calls.get_blob(blob), ["v2", "consumer", "blobs", blob]),
    ]
    for operation, expected in cases:
        sent = _sent_path(operation)
        assert sent[0] == ""
        assert [unquote(part) for part in sent[1:]] == expected


@given(st.one_of(VALID, DOTS))
def test_segment_is_one_segment_that_decodes_back_or_is_refused(value: str) -> None:
    if not value.strip("."):
        with pytest.raises(RequestValidationError, match=r"x: .* only dots"):
            segment(value, "x")
        return
    encoded = segment(value, "x")
    assert "/" not in encoded
    assert encoded.strip(".")
    assert unquote(encoded) == value


@pytest.mark.parametrize("tag", ["../..", "a/../b", ".a", "a.", "..a..", "%2E%2E"])
def test_remove_tag_with_dots_deletes_only_that_tag(tag: str) -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.route().respond(204)
        with OrchestratorClient("t", base_url=BASE) as client:
            client.remove_tag("wf-1", tag)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "DELETE"
    prefix, last = request.url.raw_path.decode().rsplit("/", 1)
    assert prefix == "/v2/consumer/workflows/wf-1/tags"
    assert unquote(last) == tag


CALLS_WITH_IDS: list[tuple[str, Any]] = [
    ("get", lambda c, v: c.get(v)),
    ("cancel", lambda c, v: c.cancel(v)),
    ("get_step", lambda c, v: c.get_step("wf-1", v)),
    ("get_step", lambda c, v: c.get_step(v, "$0")),
    ("add_tag", lambda c, v: c.add_tag("wf-1", v)),
    ("remove_tag", lambda c, v: c.remove_tag("wf-1", v)),
    ("remove_tag", lambda c, v: c.remove_tag(v, "t")),
    ("get_blob", lambda c, v: c.get_blob(v)),
    ("blob_size", lambda c, v: c.blob_size(v)),
    ("download_blob", lambda c, v: c.download_blob(v, path="never-written.bin")),
    ("delete", lambda c, v: c.delete(v)),
    ("download_archive", lambda c, v: c.download_archive(v, "never-written.zip")),
]


@given(dots=DOTS)
def test_dot_only_ids_are_refused_before_anything_is_sent(dots: str) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        everything = api.route().respond(200, json={})
        with OrchestratorClient("t", base_url=BASE, max_retries=0) as client:
            for name, call in CALLS_WITH_IDS:
                with pytest.raises(RequestValidationError, match="only dots") as info:
                    call(client, dots)
                assert isinstance(info.value, CivitaiError), name
    assert not everything.called


@pytest.mark.parametrize("bad", ["", "\ud800", 3, ".", ".."])
def test_empty_or_invalid_path_values_are_refused(bad: Any) -> None:
    with pytest.raises(RequestValidationError, match="workflow id"):
        calls.get(bad)

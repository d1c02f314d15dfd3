"""The starter app over plain HTTP: idempotent submit, history and cancel, bad ids."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from examples.webapp.local import LocalStack


@pytest.fixture(scope="module")
def signed_in() -> Iterator[tuple[httpx.Client, LocalStack]]:
    with LocalStack(step_seconds=60.0) as stack, httpx.Client(timeout=20) as client:
        consent = client.get(stack.url + "/auth/login", follow_redirects=True)
        consent_id = re.search(r'name="consent_id" value="([^"]+)"', consent.text)
        assert consent_id is not None
        approved = client.post(
            stack.services.url + "/api/auth/oauth/authorize",
            data={"consent_id": consent_id.group(1), "decision": "approve"},
            follow_redirects=True,
        )
        assert "local-user" in approved.text
        yield client, stack


def confirm(client: httpx.Client, stack: LocalStack, prompt: str) -> dict[str, str]:
    page = client.post(stack.url + "/estimate", data={"prompt": prompt, "quantity": "1"})
    cost = re.search(r'data-testid="cost">(\d+)<', page.text)
    assert cost is not None
    assert int(cost.group(1)) > 0
    external = re.search(r'name="external_id" value="([^"]+)"', page.text)
    assert external is not None
    return {"prompt": prompt, "quantity": "1", "external_id": external.group(1)}


def test_confirming_twice_submits_once(signed_in: tuple[httpx.Client, LocalStack]) -> None:
    client, stack = signed_in
    form = confirm(client, stack, "a red fox")
    first = client.post(stack.url + "/submit", data=form)
    second = client.post(stack.url + "/submit", data=form)
    assert first.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(stack.services.state.store.workflows) == 1


def test_history_lists_and_cancels(signed_in: tuple[httpx.Client, LocalStack]) -> None:
    client, stack = signed_in
    form = confirm(client, stack, "a blue whale")
    workflow_path = client.post(stack.url + "/submit", data=form).headers["location"]
    history = client.get(stack.url + "/history")
    assert workflow_path in history.text
    workflow_id = workflow_path.rsplit("/", 1)[1]
    assert f'aria-label="Cancel workflow {workflow_id}"' in history.text
    done = client.post(stack.url + f"/workflows/{workflow_id}/cancel")
    assert done.headers["location"] == "/history"
    statuses = re.findall(
        r'data-testid="history-status">(\w+)<',
        client.get(stack.url + done.headers["location"]).text,
    )
    assert "canceled" in statuses


@pytest.mark.parametrize(
    "path", ["/workflows/a%0d%0ab/images/x.png", "/workflows/x/images/%22.png"]
)
def test_odd_ids_are_refused(signed_in: tuple[httpx.Client, LocalStack], path: str) -> None:
    client, stack = signed_in
    assert client.get(stack.url + path).status_code == 400


def test_an_empty_prompt_is_explained(signed_in: tuple[httpx.Client, LocalStack]) -> None:
    client, stack = signed_in
    page = client.post(stack.url + "/estimate", data={"prompt": "  ", "quantity": "1"})
    assert page.status_code == 200
    assert "Write a prompt of 1 to 1000 characters." in page.text

"""Listing: every filter, cursor following, and a property test that no page is lost."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

PATH = "/v2/consumer/workflows"


def test_list_sends_every_filter(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.get(PATH).respond(200, json={"next": "c2", "items": [make_workflow()]})
    page = client.list(
        tags=["a", "b:c"],
        query="meta",
        from_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        to_date="2026-02-01T00:00:00Z",
        ascending=True,
        exclude_failed=True,
        hide_mature_content=False,
        take=20,
        cursor="c1",
    )
    assert page.next == "c2"
    assert len(page.items) == 1
    params = route.calls.last.request.url.params
    assert params.get_list("tags") == ["a", "b:c"]
    assert params["query"] == "meta"
    assert params["fromDate"] == "2026-01-01T00:00:00Z"
    assert params["toDate"] == "2026-02-01T00:00:00Z"
    assert params["ascending"] == "true"
    assert params["excludeFailed"] == "true"
    assert params["hideMatureContent"] == "false"
    assert params["take"] == "20"
    assert params["cursor"] == "c1"


def test_list_defaults_send_nothing(client: Any, api: Any) -> None:
    route = api.get(PATH).respond(200, json={"items": []})
    page = client.list()
    assert page.items == []
    assert route.calls.last.request.url.query == b""


def test_list_rejects_naive_dates_and_bad_take(client: Any) -> None:
    with pytest.raises(ValueError, match="timezone"):
        client.list(from_date=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="take"):
        client.list(take=0)


def test_iteration_stops_on_repeated_cursor(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.get(PATH).respond(200, json={"next": "same", "items": [make_workflow()]})
    assert len(list(client.iter_workflows())) == 1  # the page served again adds nothing
    assert route.call_count == 2


def test_overlapping_pages_yield_each_workflow_once() -> None:
    """Pages that overlap (an offset cursor while workflows are created) yielded the
    repeated workflows again, on both clients; the paging goes on past them."""
    import anyio

    pages = {None: ["w1", "w2"], "c1": ["w2", "w3"], "c2": ["w3", "w4", "w5"], "c3": []}
    after = {None: "c1", "c1": "c2", "c2": "c3", "c3": ""}

    def respond(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        items = [{"id": i, "status": "succeeded", "steps": []} for i in pages[cursor]]
        return httpx.Response(200, json={"next": after[cursor], "items": items})

    async def collect() -> list[str | None]:
        async with AsyncOrchestratorClient("tok", base_url="https://orch.test") as c:
            return [w.id async for w in c.iter_workflows()]

    with respx.mock(base_url="https://orch.test") as router:
        router.get(PATH).mock(side_effect=respond)
        with OrchestratorClient("tok", base_url="https://orch.test") as c:
            assert [w.id for w in c.iter_workflows()] == ["w1", "w2", "w3", "w4", "w5"]
        assert anyio.run(collect) == ["w1", "w2", "w3", "w4", "w5"]


def _pages(sizes: list[int], end: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Pages of workflows with unique ids; the last page ends with ``end``'s style."""
    pages, ids, n = [], [], 0
    for index, size in enumerate(sizes):
        items = []
        for _ in range(size):
            ids.append(f"w{n}")
            items.append(
                {
                    "id": f"w{n}",
                    "status": "succeeded",
                    "createdAt": "2026-01-01T00:00:00Z",
                    "cost": {"base": 1, "total": 1, "tips": {"civitai": 0, "creators": 0}},
                    "steps": [],
                }
            )
            n += 1
        last = index == len(sizes) - 1
        page: dict[str, Any] = {"items": items}
        if not last:
            page["next"] = f"cursor-{index + 1}"
        elif end == "empty":
            page["next"] = ""
        elif end == "null":
            page["next"] = None
        pages.append(page)
    return pages, ids


def _handler(pages: list[dict[str, Any]], seen: list[str | None]) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        seen.append(cursor)
        index = 0 if cursor is None else int(cursor.split("-")[1])
        return httpx.Response(200, json=pages[index])

    return respond


page_sizes = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=8)
endings = st.sampled_from(["missing", "empty", "null"])


@settings(max_examples=40, deadline=None)
@given(sizes=page_sizes, end=endings)
def test_iter_workflows_yields_every_item_once(sizes: list[int], end: str) -> None:
    pages, ids = _pages(sizes, end)
    seen: list[str | None] = []
    with respx.mock(base_url="https://orch.test") as router:
        router.get(PATH).mock(side_effect=_handler(pages, seen))
        with OrchestratorClient("tok", base_url="https://orch.test") as c:
            got = [w.id for w in c.iter_workflows(tags=["x"], take=5)]
    assert got == ids
    assert seen == [None] + [f"cursor-{i}" for i in range(1, len(sizes))]


@settings(max_examples=20, deadline=None)
@given(sizes=page_sizes, end=endings)
def test_async_iter_workflows_yields_every_item_once(sizes: list[int], end: str) -> None:
    import anyio

    pages, ids = _pages(sizes, end)
    seen: list[str | None] = []

    async def collect() -> list[str | None]:
        async with AsyncOrchestratorClient("tok", base_url="https://orch.test") as c:
            return [w.id async for w in c.iter_workflows(take=5)]

    with respx.mock(base_url="https://orch.test") as router:
        router.get(PATH).mock(side_effect=_handler(pages, seen))
        got = anyio.run(collect)
    assert got == ids
    assert len(seen) == len(sizes)


def test_iteration_is_lazy(client: Any, api: Any, make_workflow: Any) -> None:
    route = api.get(PATH).respond(200, json={"next": "n", "items": [make_workflow()]})
    iterator = client.iter_workflows()
    next(iterator)
    assert route.call_count == 1


def test_iteration_ends_when_fresh_cursors_bring_back_the_same_workflows() -> None:
    """A server whose cursors are always new but whose pages repeat ends the iteration
    (it used to loop forever), on both clients."""
    import anyio

    served: list[str | None] = []

    def respond(request: httpx.Request) -> httpx.Response:
        served.append(request.url.params.get("cursor"))
        if len(served) > 20:
            raise AssertionError("the iteration does not end")
        items = [{"id": f"w{n}", "status": "succeeded", "steps": []} for n in (1, 2)]
        if request.url.params.get("anonymous"):  # no ids: nothing tells a page is new
            items = [{"status": "succeeded", "steps": []}]
        return httpx.Response(200, json={"next": f"cursor-{len(served)}", "items": items})

    async def collect() -> list[str | None]:
        async with AsyncOrchestratorClient("tok", base_url="https://orch.test") as c:
            return [w.id async for w in c.iter_workflows()]

    with respx.mock(base_url="https://orch.test") as router:
        router.get(PATH).mock(side_effect=respond)
        with OrchestratorClient("tok", base_url="https://orch.test") as c:
            assert [w.id for w in c.iter_workflows()] == ["w1", "w2"]
        assert served == [None, "cursor-1"]
        served.clear()
        assert anyio.run(collect) == ["w1", "w2"]
        assert served == [None, "cursor-1"]
        served.clear()
        with OrchestratorClient("tok", base_url="https://orch.test") as c:
            assert len(list(c.iter_workflows(extra_query={"anonymous": "1"}))) == 1
        assert served == [None]

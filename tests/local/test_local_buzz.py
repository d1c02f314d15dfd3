"""Buzz: pools debited in order, the real 403 when short, refunds for unfinished work."""

from __future__ import annotations

import httpx
import pytest
from local_helpers import text_to_image

from civitai_app_sdk.local import LocalConfig

WORKFLOWS = "/v2/consumer/workflows"


def pools(api: httpx.Client) -> dict[str, int]:
    body = api.get("/api/trpc/buzz.getBuzzAccount").json()
    return dict(body["result"]["data"]["json"])


@pytest.fixture
def config() -> LocalConfig:
    """A small balance, so a large submit is refused."""
    return LocalConfig(balance={"blue": 5, "yellow": 10})


def test_submit_beyond_the_balance_is_a_bare_string_403(api: httpx.Client) -> None:
    response = api.post(WORKFLOWS, json=text_to_image(quantity=4))
    assert response.status_code == 403
    assert isinstance(response.json(), str)
    assert "Insufficient buzz" in response.json()
    estimate = api.post(WORKFLOWS, params={"whatif": "true"}, json=text_to_image(quantity=4))
    assert estimate.json()["transactions"]["insufficientBuzz"] is True


def test_pools_are_debited_in_order_blue_first(api: httpx.Client) -> None:
    body = api.post(WORKFLOWS, json=text_to_image(quantity=2)).json()
    debits = [(t["accountType"], t["amount"]) for t in body["transactions"]["list"]]
    assert debits == [("blue", 5), ("yellow", 3)]
    only_yellow = api.post(WORKFLOWS, json=text_to_image(currencies=["yellow"])).json()
    assert [t["accountType"] for t in only_yellow["transactions"]["list"]] == ["yellow"]


def test_cancel_before_processing_refunds_the_charge(api: httpx.Client) -> None:
    before = pools(api)
    workflow = api.post(WORKFLOWS, json=text_to_image()).json()
    assert pools(api) != before
    assert api.put(f"{WORKFLOWS}/{workflow['id']}", json={"status": "canceled"}).status_code == 204
    after = api.get(f"{WORKFLOWS}/{workflow['id']}").json()
    assert after["status"] == "canceled"
    assert [t["type"] for t in after["transactions"]["list"]] == ["debit", "credit"]
    assert pools(api) == before


def test_user_account_lists_each_pool_in_014s_shape(api: httpx.Client) -> None:
    from civitai_app_sdk.oauth.account import parse_buzz_accounts

    body = api.get("/api/trpc/buzz.getUserAccount").json()
    accounts = parse_buzz_accounts(body)
    assert {a.account_type: a.balance for a in accounts} == pools(api)
    assert {tuple(sorted(raw)) for raw in body["result"]["data"]["json"]} == {
        ("accountType", "balance", "id", "lifetimeBalance")
    }


def test_a_pool_named_twice_is_not_counted_twice(api: httpx.Client) -> None:
    """``currencies: [yellow, yellow]`` used to count yellow's 10 Buzz twice: a 12-Buzz
    workflow went through and left yellow at -2."""
    body = text_to_image(quantity=3, currencies=["yellow", "yellow"])
    response = api.post(WORKFLOWS, json=body)
    assert response.status_code == 403
    assert pools(api)["yellow"] == 10
    fits = api.post(WORKFLOWS, json=text_to_image(quantity=2, currencies=["yellow", "yellow"]))
    assert [(t["accountType"], t["amount"]) for t in fits.json()["transactions"]["list"]] == [
        ("yellow", 8)
    ]
    assert pools(api)["yellow"] == 2

"""The local OAuth server's consent page: who asks, what in words, Approve and Deny."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from civitai_app_sdk.local import LocalConfig, LocalServer

REDIRECT = "http://127.0.0.1:5173/callback"
VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode()[:43]
AUTHORIZE = "/api/auth/oauth/authorize"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    config = LocalConfig(auto_consent=False, client_names={"demo-app": "Demo <App>"})
    with LocalServer(config) as server, httpx.Client(base_url=server.url) as http:
        yield http


def page(
    client: httpx.Client, scope: str = "98305", state: str = "st", redirect: str = REDIRECT
) -> httpx.Response:
    params = {
        "client_id": "demo-app",
        "redirect_uri": redirect,
        "response_type": "code",
        "state": state,
        "scope": scope,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    return client.get(AUTHORIZE, params=params)


def consent_id(response: httpx.Response) -> str:
    found = re.search(r'name="consent_id" value="([^"]+)"', response.text)
    assert found is not None
    return found.group(1)


def test_the_page_names_the_app_and_the_scopes_in_words(client: httpx.Client) -> None:
    response = page(client)
    assert response.status_code == 200
    assert "<strong>Demo &lt;App&gt;</strong> wants to use your Civitai account" in response.text
    words = re.findall(r"<li>([^<]+)</li>", response.text)
    assert words == [
        "Read profile, settings &amp; email",
        "Generate, train &amp; scan",
        "View buzz balance &amp; history",
    ]
    assert 'value="approve">Approve</button>' in response.text
    assert 'value="deny">Deny</button>' in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_approve_redirects_with_a_code_that_redeems(client: httpx.Client) -> None:
    answer = client.post(
        AUTHORIZE, data={"consent_id": consent_id(page(client)), "decision": "approve"}
    )
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["st"]
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": "demo-app",
    }
    assert client.post("/api/auth/oauth/token", data=form).status_code == 200


def test_deny_redirects_with_access_denied_and_the_state(client: httpx.Client) -> None:
    answer = client.post(
        AUTHORIZE, data={"consent_id": consent_id(page(client)), "decision": "deny"}
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st"]
    assert "code" not in query


def test_a_consent_answers_once(client: httpx.Client) -> None:
    once = consent_id(page(client))
    assert (
        client.post(AUTHORIZE, data={"consent_id": once, "decision": "approve"}).status_code == 303
    )
    again = client.post(AUTHORIZE, data={"consent_id": once, "decision": "approve"})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


def test_a_forged_post_without_the_page_only_gets_the_page(client: httpx.Client) -> None:
    params = {
        "client_id": "demo-app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "st",
        "scope": "1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "decision": "approve",
    }
    answer = client.post(AUTHORIZE, data=params)
    assert answer.status_code == 200
    assert "wants to use your Civitai account" in answer.text


def test_invalid_requests_are_refused_before_any_page(client: httpx.Client) -> None:
    assert page(client, scope="not-a-number").json()["error"] == "invalid_scope"
    assert page(client, state="").json()["error"] == "invalid_request"


def test_user_info_in_the_redirect_cannot_write_the_csp_or_the_return_note(
    client: httpx.Client,
) -> None:
    sneaky = "http://evil.test;script-src 'unsafe-inline'@127.0.0.1:5173/callback"
    response = page(client, redirect=sneaky)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert csp.endswith("form-action 'self' http://127.0.0.1:5173")
    assert "evil" not in csp
    assert "evil" not in response.text

"""The OAuth server: discovery, PKCE authorize + token, refresh rotation, device flow, me."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from civitai_app_sdk.local import LocalConfig, LocalServer, ManualClock

OAUTH = "/api/auth/oauth"
REDIRECT = "http://127.0.0.1:5173/callback"
VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode()[:43]
AI_SERVICES = 114689


def authorize(client: httpx.Client, **overrides: str) -> httpx.Response:
    params = {
        "client_id": "demo-app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "st4te",
        "scope": str(AI_SERVICES),
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return client.get(f"{OAUTH}/authorize", params=params)


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


def exchange(client: httpx.Client, code: str, verifier: str = VERIFIER) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "demo-app",
    }
    return client.post(f"{OAUTH}/token", data=form)


@pytest.fixture
def anon(server: LocalServer) -> httpx.Client:
    return httpx.Client(base_url=server.url)


def test_discovery_lists_the_endpoints_served_here(anon: httpx.Client, server: LocalServer) -> None:
    document = anon.get("/.well-known/openid-configuration").json()
    assert document["issuer"] == server.url
    assert document["token_endpoint"] == f"{server.url}{OAUTH}/token"
    assert document["scopes_supported"][-1] == "67108864"
    assert len(document["scopes_supported"]) == 27
    for key in ("authorization_endpoint", "revocation_endpoint", "device_authorization_endpoint"):
        assert anon.post(document[key]).status_code != 404
    assert anon.get(document["jwks_uri"]).json() == {"keys": []}


def test_pkce_login_then_the_token_works_everywhere(anon: httpx.Client) -> None:
    tokens = exchange(anon, code_of(authorize(anon))).json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == [str(AI_SERVICES)]
    assert tokens["access_token"].startswith("civitai_")
    assert len(tokens["access_token"]) == 44
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = anon.get("/api/v1/me", headers=bearer).json()
    assert me["subject"] == {"type": "oauth", "id": "demo-app"}
    assert me["tokenScope"] == AI_SERVICES
    assert anon.get("/api/trpc/buzz.getBuzzAccount", headers=bearer).status_code == 200
    assert anon.get(f"{OAUTH}/userinfo", headers=bearer).json()["sub"] == "1"
    assert anon.get("/v2/consumer/workflows", headers=bearer).status_code == 200


def test_wrong_verifier_and_reused_code_are_invalid_grant(anon: httpx.Client) -> None:
    code = code_of(authorize(anon))
    assert exchange(anon, code, verifier="w" * 50).json()["error"] == "invalid_grant"
    assert exchange(anon, code).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"state": ""}, "invalid_request"),
        ({"scope": "999999999"}, "invalid_scope"),
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
    ],
)
def test_bad_authorize_requests(anon: httpx.Client, overrides: dict[str, str], error: str) -> None:
    response = authorize(anon, **overrides)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_refresh_rotates_and_the_old_refresh_token_dies(anon: httpx.Client) -> None:
    first = exchange(anon, code_of(authorize(anon))).json()
    form = {"grant_type": "refresh_token", "client_id": "demo-app"}
    second = anon.post(f"{OAUTH}/token", data={**form, "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    again = anon.post(f"{OAUTH}/token", data={**form, "refresh_token": first["refresh_token"]})
    assert again.json()["error"] == "invalid_grant"


def test_token_endpoint_is_form_only_and_refuses_the_device_grant(anon: httpx.Client) -> None:
    assert (
        anon.post(f"{OAUTH}/token", json={"grant_type": "x"}).json()["error"] == "invalid_request"
    )
    device = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": "a"}
    assert anon.post(f"{OAUTH}/token", data=device).json()["error"] == "unsupported_grant_type"


def test_device_flow_pending_until_the_page_is_visited(clock: ManualClock) -> None:
    config = LocalConfig(device_approve_after=None, device_interval=0.1)
    with LocalServer(config, clock=clock) as server, httpx.Client(base_url=server.url) as anon:
        start = anon.post(f"{OAUTH}/device", data={"client_id": "tv", "scope": "114689"}).json()
        assert len(start["device_code"]) == 64
        assert start["interval"] == 0.1
        poll = {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": start["device_code"],
            "client_id": "tv",
        }
        pending = anon.post(f"{OAUTH}/device-token", data=poll)
        assert pending.json()["error"] == "authorization_pending"
        assert anon.get(start["verification_uri_complete"]).status_code == 200
        tokens = anon.post(f"{OAUTH}/device-token", data=poll).json()
        assert tokens["scope"] == "114689"
        assert anon.post(f"{OAUTH}/device-token", data=poll).json()["error"] == "invalid_grant"


def test_revoke_answers_200_and_only_confidential_clients_revoke(clock: ManualClock) -> None:
    config = LocalConfig(confidential_clients={"backend": "sh"})
    with LocalServer(config, clock=clock) as server, httpx.Client(base_url=server.url) as anon:
        granted = anon.post(
            f"{OAUTH}/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "backend",
                "client_secret": "sh",
            },
        ).json()
        bearer = {"Authorization": f"Bearer {granted['access_token']}"}
        assert anon.get("/api/v1/me", headers=bearer).status_code == 200
        public = {"token": granted["refresh_token"], "client_id": "someone"}
        assert anon.post(f"{OAUTH}/revoke", data=public).json() == {}
        assert anon.get("/api/v1/me", headers=bearer).status_code == 200
        own = {"token": granted["refresh_token"], "client_id": "backend", "client_secret": "sh"}
        assert anon.post(f"{OAUTH}/revoke", data=own).json() == {}
        assert anon.get("/api/v1/me", headers=bearer).status_code == 401


def test_buzz_needs_the_buzz_read_scope(anon: httpx.Client) -> None:
    tokens = exchange(anon, code_of(authorize(anon, scope="16384"))).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    denied = anon.get("/api/trpc/buzz.getBuzzAccount", headers=bearer)
    assert denied.status_code == 403
    assert denied.json()["error"]["json"]["data"]["code"] == "FORBIDDEN"
    refused = anon.post("/v2/consumer/workflows", headers=bearer, json={})
    assert refused.status_code == 403
    assert isinstance(refused.json(), str)

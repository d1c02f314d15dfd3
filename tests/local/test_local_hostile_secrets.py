"""Credentials the local server checks, sent with non-ASCII characters by a raw client.

``compare_digest`` refuses ``str`` holding non-ASCII characters with a ``TypeError``: the
server answered 500 and dropped the connection instead of refusing the credential.
"""

from __future__ import annotations

import httpx
import pytest

from civitai_app_sdk.local import LocalConfig, LocalServer


@pytest.fixture
def config() -> LocalConfig:
    """A server with a fixed API token and one confidential OAuth client."""
    return LocalConfig(token="right-token", confidential_clients={"app": "s3cret"})


def test_non_ascii_credentials_are_refused_not_a_server_error(server: LocalServer) -> None:
    with httpx.Client(base_url=server.url) as raw:
        bearer = raw.get("/v2/consumer/workflows", headers={"Authorization": b"Bearer \xc3\xa9"})
        assert bearer.status_code == 401
        secret = raw.post(
            "/api/auth/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "app", "client_secret": "é"},
        )
        assert secret.status_code == 401
        assert secret.json()["error"] == "invalid_client"
        upload = raw.post(
            "/v2/consumer/blobs?sig=%C3%A9&exp=9999",
            content=b"\x89PNG\r\n\x1a\n",
            headers={"content-type": "image/png"},
        )
        assert upload.status_code == 401
        signed = raw.get("/v2/consumer/blobs/X.png?sig=%C3%A9&exp=9999")
        assert signed.status_code == 401
        content = raw.get("/v2/consumer/blobs/content/QUJD.%C3%A9")
        assert content.status_code == 404

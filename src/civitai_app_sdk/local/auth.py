"""Bearer tokens: the configured or any API key, and the tokens the OAuth endpoints mint."""

from __future__ import annotations

import secrets
from typing import Final

import attrs

from civitai_app_sdk.scopes import ALL_SCOPES

__all__ = [
    "ACCESS_LIFETIME",
    "OAUTH_PREFIX",
    "REFRESH_LIFETIME",
    "Grant",
    "Principal",
    "TokenBook",
    "same_secret",
]

ACCESS_LIFETIME: Final = 3600
"""Seconds an OAuth access token minted here stays valid."""
REFRESH_LIFETIME: Final = 30 * 24 * 3600
"""Seconds a refresh token minted here stays valid (30 days)."""
OAUTH_PREFIX: Final = "civitai_"
"""Prefix of OAuth access tokens; such tokens must have been minted here."""


def same_secret(given: str, expected: str) -> bool:
    """Whether two secrets are equal, compared in constant time whatever text they hold
    (``compare_digest`` refuses ``str`` with non-ASCII characters: a 500, not a 401)."""
    return secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@attrs.frozen
class Grant:
    """What an OAuth token stands for."""

    client_id: str
    scope: int
    expires_at: float


@attrs.frozen
class Principal:
    """The caller behind a Bearer token: an API key or an OAuth client."""

    kind: str
    scope: int
    client_id: str | None = None


class TokenBook:
    """Minted access and refresh tokens; decides which Bearer tokens are accepted."""

    def __init__(self, api_token: str | None) -> None:
        """Accept ``api_token`` only, or any non-empty token when it is ``None``."""
        self._api_token = api_token
        self.access: dict[str, Grant] = {}
        self.refresh: dict[str, Grant] = {}

    def mint(self, client_id: str, scope: int, now: float) -> tuple[str, str]:
        """A new access token (``civitai_`` + 36 hex) and refresh token for a grant."""
        access = OAUTH_PREFIX + secrets.token_hex(18)
        refresh = secrets.token_hex(32)
        self.access[access] = Grant(client_id, scope, now + ACCESS_LIFETIME)
        self.refresh[refresh] = Grant(client_id, scope, now + REFRESH_LIFETIME)
        return access, refresh

    def revoke_refresh(self, token: str, client_id: str) -> bool:
        """Drop a refresh token and the client's access tokens; whether it existed."""
        grant = self.refresh.get(token)
        if grant is None or grant.client_id != client_id:
            return False
        del self.refresh[token]
        for access, held in list(self.access.items()):
            if held.client_id == client_id:
                del self.access[access]
        return True

    def principal(self, authorization: str | None, now: float) -> Principal | None:
        """Who ``Authorization: Bearer …`` is, or ``None`` when it is not accepted.

        OAuth-shaped tokens (``civitai_…``) must be minted here and still valid
        (expired or revoked ones are refused); others are API keys.
        """
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if token.startswith(OAUTH_PREFIX):
            grant = self.access.get(token)
            if grant is None or grant.expires_at <= now:
                return None
            return Principal("oauth", grant.scope, grant.client_id)
        if self._api_token is None or same_secret(token, self._api_token):
            return Principal("apiKey", int(ALL_SCOPES))
        return None

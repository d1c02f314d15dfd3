"""OAuth 2.0 for Civitai: PKCE, authorize URL, token calls, device flow, token storage.

A typed port of ``@civitai/app-sdk`` 0.14's ``oauth`` module. Same inputs give the same
authorize URL and request bodies as 0.14; where 0.14 is lax this module is strict, and
each function's docstring says how.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._lazy import load_export

if TYPE_CHECKING:
    from ._core import DEFAULT_TIMEOUT
    from .account import BuzzAccount, BuzzBalances, CivitaiUser, TokenSubject
    from .client import (
        AsyncOAuthClient,
        OAuthClient,
        exchange_code,
        fetch_buzz_account,
        fetch_buzz_balances,
        fetch_me,
        refresh_token,
        revoke_token,
    )
    from .device import DeviceAuthorization, DevicePoller
    from .errors import LoginRequiredError, OAuthError, TokenCookieTooLargeError
    from .pkce import PkcePair, generate_pkce, generate_state, pkce_challenge
    from .refresh import DEFAULT_REFRESH_MARGIN, RefreshingTokenProvider, TokenProvider
    from .store import (
        FileRefreshLock,
        LockingTokenStore,
        MemoryTokenStore,
        RefreshLock,
        SealedCookieTokenStore,
        TokenStore,
    )
    from .tokens import TokenSet
    from .urls import DEFAULT_ISSUER, DEFAULT_SITE_URL, ScopeRequest, build_authorize_url

_EXPORTS: dict[str, str] = {
    "DEFAULT_TIMEOUT": "civitai_app_sdk.oauth._core:DEFAULT_TIMEOUT",
    "BuzzAccount": "civitai_app_sdk.oauth.account:BuzzAccount",
    "BuzzBalances": "civitai_app_sdk.oauth.account:BuzzBalances",
    "CivitaiUser": "civitai_app_sdk.oauth.account:CivitaiUser",
    "TokenSubject": "civitai_app_sdk.oauth.account:TokenSubject",
    "AsyncOAuthClient": "civitai_app_sdk.oauth.client:AsyncOAuthClient",
    "OAuthClient": "civitai_app_sdk.oauth.client:OAuthClient",
    "exchange_code": "civitai_app_sdk.oauth.client:exchange_code",
    "fetch_buzz_account": "civitai_app_sdk.oauth.client:fetch_buzz_account",
    "fetch_buzz_balances": "civitai_app_sdk.oauth.client:fetch_buzz_balances",
    "fetch_me": "civitai_app_sdk.oauth.client:fetch_me",
    "refresh_token": "civitai_app_sdk.oauth.client:refresh_token",
    "revoke_token": "civitai_app_sdk.oauth.client:revoke_token",
    "DeviceAuthorization": "civitai_app_sdk.oauth.device:DeviceAuthorization",
    "DevicePoller": "civitai_app_sdk.oauth.device:DevicePoller",
    "LoginRequiredError": "civitai_app_sdk.oauth.errors:LoginRequiredError",
    "OAuthError": "civitai_app_sdk.oauth.errors:OAuthError",
    "TokenCookieTooLargeError": "civitai_app_sdk.oauth.errors:TokenCookieTooLargeError",
    "PkcePair": "civitai_app_sdk.oauth.pkce:PkcePair",
    "generate_pkce": "civitai_app_sdk.oauth.pkce:generate_pkce",
    "generate_state": "civitai_app_sdk.oauth.pkce:generate_state",
    "pkce_challenge": "civitai_app_sdk.oauth.pkce:pkce_challenge",
    "DEFAULT_REFRESH_MARGIN": "civitai_app_sdk.oauth.refresh:DEFAULT_REFRESH_MARGIN",
    "RefreshingTokenProvider": "civitai_app_sdk.oauth.refresh:RefreshingTokenProvider",
    "TokenProvider": "civitai_app_sdk.oauth.refresh:TokenProvider",
    "FileRefreshLock": "civitai_app_sdk.oauth.store:FileRefreshLock",
    "LockingTokenStore": "civitai_app_sdk.oauth.store:LockingTokenStore",
    "MemoryTokenStore": "civitai_app_sdk.oauth.store:MemoryTokenStore",
    "RefreshLock": "civitai_app_sdk.oauth.store:RefreshLock",
    "SealedCookieTokenStore": "civitai_app_sdk.oauth.store:SealedCookieTokenStore",
    "TokenStore": "civitai_app_sdk.oauth.store:TokenStore",
    "TokenSet": "civitai_app_sdk.oauth.tokens:TokenSet",
    "DEFAULT_ISSUER": "civitai_app_sdk.oauth.urls:DEFAULT_ISSUER",
    "DEFAULT_SITE_URL": "civitai_app_sdk.oauth.urls:DEFAULT_SITE_URL",
    "ScopeRequest": "civitai_app_sdk.oauth.urls:ScopeRequest",
    "build_authorize_url": "civitai_app_sdk.oauth.urls:build_authorize_url",
}
"""Each public name -> ``module:attribute`` it is loaded from on first use."""

__all__ = [
    "DEFAULT_ISSUER",
    "DEFAULT_REFRESH_MARGIN",
    "DEFAULT_SITE_URL",
    "DEFAULT_TIMEOUT",
    "AsyncOAuthClient",
    "BuzzAccount",
    "BuzzBalances",
    "CivitaiUser",
    "DeviceAuthorization",
    "DevicePoller",
    "FileRefreshLock",
    "LockingTokenStore",
    "LoginRequiredError",
    "MemoryTokenStore",
    "OAuthClient",
    "OAuthError",
    "PkcePair",
    "RefreshLock",
    "RefreshingTokenProvider",
    "ScopeRequest",
    "SealedCookieTokenStore",
    "TokenCookieTooLargeError",
    "TokenProvider",
    "TokenSet",
    "TokenStore",
    "TokenSubject",
    "build_authorize_url",
    "exchange_code",
    "fetch_buzz_account",
    "fetch_buzz_balances",
    "fetch_me",
    "generate_pkce",
    "generate_state",
    "pkce_challenge",
    "refresh_token",
    "revoke_token",
]


def __getattr__(name: str) -> Any:
    return load_export(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

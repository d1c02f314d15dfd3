"""OAuth 2.0 for Civitai: PKCE, authorize URL, token calls, device flow, token storage.

A typed port of ``@civitai/app-sdk`` 0.14's ``oauth`` module. Same inputs give the same
authorize URL and request bodies as 0.14; where 0.14 is lax this module is strict, and
each function's docstring says how.
"""

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
from .errors import LoginRequiredError, OAuthError
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

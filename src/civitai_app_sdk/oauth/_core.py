"""The one request/response core behind the sync and async OAuth clients.

Every operation is described by a :class:`Call`: the request to send and the function
that reads its response. The clients only move bytes (``send_sync``/``send_async``).
Nothing here logs; error bodies are kept only for non-2xx answers.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

import attrs
import httpx

from ._values import hidden_repr
from .account import (
    BuzzAccount,
    BuzzBalances,
    CivitaiUser,
    parse_buzz_accounts,
    parse_buzz_balances,
)
from .device import DEVICE_GRANT_TYPE, DeviceAuthorization
from .errors import OAuthError
from .tokens import TokenSet
from .urls import (
    BUZZ_ACCOUNT_PATH,
    BUZZ_USER_ACCOUNT_PATH,
    DEVICE_PATH,
    DEVICE_TOKEN_PATH,
    ME_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    ScopeRequest,
    endpoint_url,
    form_encode,
    nonempty_str,
    normalize_base_url,
    scope_value,
)

T = TypeVar("T")

DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
"""Default timeouts: 5 s to connect, 10 s for each read, write and pool wait."""

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
_MAX_ERROR_TEXT: Final = 1000
_GUARD_SIZE: Final = 4096


@attrs.frozen
class Call(Generic[T]):
    """One HTTP exchange: what to send and how to read the answer.

    Headers and body hold credentials, so ``repr`` leaves them out.
    """

    method: str
    url: str
    headers: dict[str, str] = attrs.field(repr=False)
    content: bytes | None = attrs.field(repr=False)
    parse: Callable[[httpx.Response], T] = attrs.field(repr=False)


def as_timeout(timeout: httpx.Timeout | float) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds; ``ValueError`` unless finite and positive."""
    if isinstance(timeout, httpx.Timeout):
        limits = [timeout.connect, timeout.read, timeout.write, timeout.pool]
    else:
        limits = [timeout]
        timeout = httpx.Timeout(timeout)
    if any(v is None or not math.isfinite(v) or v <= 0 for v in limits):
        raise ValueError("timeouts must be finite positive numbers of seconds")
    return timeout


def send_sync(http: httpx.Client, call: Call[T], limits: httpx.Timeout) -> T:
    """Send ``call`` with a sync httpx client and parse the response."""
    request = http.build_request(
        call.method, call.url, headers=call.headers, content=call.content, timeout=limits
    )
    return call.parse(http.send(request))


async def send_async(http: httpx.AsyncClient, call: Call[T], limits: httpx.Timeout) -> T:
    """Send ``call`` with an async httpx client and parse the response."""
    request = http.build_request(
        call.method, call.url, headers=call.headers, content=call.content, timeout=limits
    )
    return call.parse(await http.send(request))


@attrs.frozen
class Credentials:
    """Client id, optional secret (confidential client) and OAuth base URL."""

    client_id: str
    client_secret: str | None = attrs.field(default=None, repr=hidden_repr)
    base_url: str = attrs.field(default="", converter=normalize_base_url)

    def __attrs_post_init__(self) -> None:
        nonempty_str("client_id", self.client_id)
        if self.client_secret is not None and (
            not isinstance(self.client_secret, str) or not self.client_secret
        ):
            raise ValueError("client_secret must be a non-empty string or None")

    def auth_fields(self) -> list[tuple[str, str]]:
        """``client_id`` then, for a confidential client only, ``client_secret``."""
        fields = [("client_id", self.client_id)]
        if self.client_secret is not None:
            fields.append(("client_secret", self.client_secret))
        return fields


class OnceGuard:
    """Remembers (by SHA-256) single-use values already sent, so none is sent twice."""

    def __init__(self, size: int = _GUARD_SIZE) -> None:
        """Keep the digests of the last ``size`` values."""
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def claim(self, value: str, what: str) -> None:
        """Mark ``value`` as sent; raise ``invalid_grant`` locally if it already was."""
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            if digest in self._seen:
                raise OAuthError("invalid_grant", f"this {what} was already sent once")
            self._seen[digest] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def release(self, value: str) -> None:
        """Forget ``value``: the server provably did not look at it (HTTP 429)."""
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            self._seen.pop(digest, None)


def _body(response: httpx.Response) -> object:
    """JSON if the body parses, else its text; ``None`` when empty."""
    text = response.text
    if not text:
        return None
    try:
        parsed: object = json.loads(text)
    except ValueError:
        return text
    return parsed


def _check(response: httpx.Response) -> None:
    """Raise :class:`OAuthError` for a non-2xx answer, with the server's error fields."""
    if response.is_success:
        return
    body = _body(response)
    error = f"http_{response.status_code}"
    description = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str) and body["error"]:
            error = body["error"]
        if isinstance(body.get("error_description"), str):
            description = body["error_description"]
    elif isinstance(body, str):
        body = body[:_MAX_ERROR_TEXT]
    raise OAuthError(error, description, status=response.status_code, body=body)


def _success_json(response: httpx.Response) -> Any:
    _check(response)
    body = _body(response)
    if not isinstance(body, dict | list):
        raise OAuthError("invalid_response", "expected a JSON body", status=response.status_code)
    return body


def form_call(
    url: str, fields: list[tuple[str, str]], parse: Callable[[httpx.Response], T]
) -> Call[T]:
    """A form POST, encoded byte-for-byte as 0.14 (``URLSearchParams``) encodes it."""
    headers = {"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"}
    return Call("POST", url, headers, form_encode(fields).encode("ascii"), parse)


def _tokens_parser(now: float) -> Callable[[httpx.Response], TokenSet]:
    def parse(response: httpx.Response) -> TokenSet:
        return TokenSet.from_response(_success_json(response), now=now)

    return parse


def _single_use_parser(
    guard: OnceGuard, value: str, now: float
) -> Callable[[httpx.Response], TokenSet]:
    """Token parsing that gives ``value`` back to the guard after a rate-limit refusal."""
    parse = _tokens_parser(now)

    def parse_single_use(response: httpx.Response) -> TokenSet:
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            guard.release(value)
        return parse(response)

    return parse_single_use


def exchange_call(
    creds: Credentials,
    guard: OnceGuard,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    now: float,
) -> Call[TokenSet]:
    """``authorization_code`` grant; the code is claimed so it is sent at most once.

    Only a 429 (rate limited before the grant was read) gives the code back.
    """
    nonempty_str("code", code)
    nonempty_str("redirect_uri", redirect_uri)
    nonempty_str("code_verifier", code_verifier)
    guard.claim(code, "authorization code")
    fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        *creds.auth_fields(),
        ("code_verifier", code_verifier),
    ]
    parse = _single_use_parser(guard, code, now)
    return form_call(endpoint_url(creds.base_url, TOKEN_PATH), fields, parse)


def refresh_call(
    creds: Credentials, guard: OnceGuard, *, refresh_token: str, now: float
) -> Call[TokenSet]:
    """``refresh_token`` grant; the token is claimed (refresh tokens rotate).

    Only a 429 (rate limited before the grant was read) gives the token back.
    """
    nonempty_str("refresh_token", refresh_token)
    guard.claim(refresh_token, "refresh token")
    fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        *creds.auth_fields(),
    ]
    parse = _single_use_parser(guard, refresh_token, now)
    return form_call(endpoint_url(creds.base_url, TOKEN_PATH), fields, parse)


def _ignore_body(response: httpx.Response) -> None:
    _check(response)


def revoke_call(creds: Credentials, *, token: str, token_type_hint: str | None) -> Call[None]:
    """Token revocation; any 2xx answer is success, whatever its body."""
    nonempty_str("token", token)
    fields = [("token", token), *creds.auth_fields()]
    if token_type_hint is not None:
        fields.append(("token_type_hint", token_type_hint))
    return form_call(endpoint_url(creds.base_url, REVOKE_PATH), fields, _ignore_body)


def device_start_call(
    creds: Credentials, *, scope: ScopeRequest, now: float
) -> Call[DeviceAuthorization]:
    """Start a device grant for ``scope``."""
    fields = [*creds.auth_fields(), ("scope", str(int(scope_value(scope))))]

    def parse(response: httpx.Response) -> DeviceAuthorization:
        return DeviceAuthorization.from_response(_success_json(response), now=now)

    return form_call(endpoint_url(creds.base_url, DEVICE_PATH), fields, parse)


def device_poll_call(
    creds: Credentials, *, authorization: DeviceAuthorization, now: float
) -> Call[TokenSet]:
    """One poll of the device-token endpoint (not the advertised token endpoint)."""
    fields = [
        ("grant_type", DEVICE_GRANT_TYPE),
        ("device_code", authorization.device_code),
        *creds.auth_fields(),
    ]
    return form_call(endpoint_url(creds.base_url, DEVICE_TOKEN_PATH), fields, _tokens_parser(now))


def _bearer(access_token: str) -> dict[str, str]:
    nonempty_str("access_token", access_token)
    if any(ch in access_token for ch in "\r\n\0"):
        raise ValueError("access_token contains a line break or NUL")
    return {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}


def _parse_me(response: httpx.Response) -> CivitaiUser:
    body = _success_json(response)
    try:
        return CivitaiUser.model_validate(body)
    except ValueError:
        raise OAuthError("invalid_response", "unexpected /api/v1/me body") from None


def me_call(site_url: str, *, access_token: str) -> Call[CivitaiUser]:
    """``GET /api/v1/me`` with a bearer token; error bodies are parsed as JSON too."""
    return Call("GET", endpoint_url(site_url, ME_PATH), _bearer(access_token), None, _parse_me)


def _parse_buzz(response: httpx.Response) -> BuzzBalances:
    try:
        return parse_buzz_balances(_success_json(response))
    except ValueError:
        raise OAuthError("invalid_response", "unexpected buzz.getBuzzAccount body") from None


def buzz_call(site_url: str, *, access_token: str) -> Call[BuzzBalances]:
    """tRPC ``buzz.getBuzzAccount`` (needs BuzzRead): the spendable pools."""
    url = endpoint_url(site_url, BUZZ_ACCOUNT_PATH)
    return Call("GET", url, _bearer(access_token), None, _parse_buzz)


def _parse_buzz_accounts(response: httpx.Response) -> list[BuzzAccount]:
    try:
        return parse_buzz_accounts(_success_json(response))
    except ValueError:
        raise OAuthError("invalid_response", "unexpected buzz.getUserAccount body") from None


def buzz_user_account_call(site_url: str, *, access_token: str) -> Call[list[BuzzAccount]]:
    """tRPC ``buzz.getUserAccount`` (needs BuzzRead): the user's accounts, as in 0.14."""
    url = endpoint_url(site_url, BUZZ_USER_ACCOUNT_PATH)
    return Call("GET", url, _bearer(access_token), None, _parse_buzz_accounts)

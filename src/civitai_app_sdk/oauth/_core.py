"""The OAuth operations: each is an :class:`~civitai_app_sdk._operations.Operation` for the
package's one request core (retries, timeouts, redacted logging, typed errors).

Token grants carry single-use values, so they are never repeated once they may have
reached the server. Error bodies are kept only for non-2xx answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

import attrs
import httpx

from .._decoding import shown
from .._failures import is_html
from .._fork import reset_in_child
from .._operations import Operation
from .._redact import mask_secrets
from .._request import Call as CoreCall
from .._request import RequestOptions, with_options
from .._retry import DEFAULT_MAX_RETRIES
from .._settings import Settings
from .._wire import WireWatch
from ..errors import (
    CivitaiError,
    ConfigurationError,
    ResponseTooLargeError,
    UnsupportedEncodingError,
    parse_body,
)
from ._unsent import may_resend
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
    DEFAULT_ISSUER,
    DEVICE_PATH,
    DEVICE_TOKEN_PATH,
    ME_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    ScopeRequest,
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
MAX_OAUTH_BODY: Final = 1024 * 1024
"""Largest answer an OAuth call reads, bytes (a token set or a user is a few KB; the
default 64 MiB cap let a hostile server make one sign-in parse its way to gigabytes)."""
_GUARD_SIZE: Final = 4096


@contextlib.contextmanager
def unreadable_is_invalid() -> Iterator[None]:
    """Turn an answer past :data:`MAX_OAUTH_BODY` (``ResponseTooLargeError``) or in an
    encoding not decoded in bounded memory (``UnsupportedEncodingError``) into the
    malformed answer it is for OAuth: :class:`OAuthError` ``invalid_response``."""
    try:
        yield
    except ResponseTooLargeError as error:
        message = f"the answer is larger than {error.limit:,} bytes"
        raise OAuthError("invalid_response", message) from error
    except UnsupportedEncodingError as error:
        message = f"the answer came compressed as {shown(error.encoding)}, not gzip or deflate"
        raise OAuthError("invalid_response", message) from error


def settings(timeout: httpx.Timeout | float, max_retries: int = DEFAULT_MAX_RETRIES) -> Settings:
    """Core settings for OAuth calls: no client-wide token, nothing read from the environment.

    Every OAuth call names its origin (issuer or site) itself.
    """
    return Settings.create(
        base_url=DEFAULT_ISSUER,
        timeout=timeout,
        max_retries=max_retries,
        token_env=None,
        url_env=None,
    )


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
            raise ConfigurationError("client_secret must be a non-empty string or None")

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
        reset_in_child(self, OnceGuard._in_child)

    def _in_child(self) -> None:
        """A fresh lock (a thread of the parent may have held it); what was sent stays."""
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
    return parse_body(response.text)


def oauth_error(call: CoreCall, response: httpx.Response) -> OAuthError:
    """The :class:`OAuthError` for a non-2xx answer, with the server's error fields."""
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
    return OAuthError(error, description, status=response.status_code, body=body, response=response)


def _success_json(response: httpx.Response) -> Any:
    body = _body(response)
    if not isinstance(body, dict | list):
        raise OAuthError("invalid_response", "expected a JSON body", status=response.status_code)
    return body


_SECRET_FIELDS: Final = frozenset(
    {"code", "code_verifier", "refresh_token", "client_secret", "token", "device_code"}
)


def form_call(
    base_url: str,
    path: str,
    fields: list[tuple[str, str]],
    *,
    idempotent: bool,
    errors: Callable[[CoreCall, httpx.Response], CivitaiError] = oauth_error,
    watch: WireWatch | None = None,
) -> CoreCall:
    """A form POST to ``base_url + path``, encoded byte-for-byte as 0.14's ``URLSearchParams``.

    The form's secrets (codes, tokens, the client secret) are masked in the error a
    failure raises, should the server echo them. ``watch`` follows its attempts.
    """
    secrets = [value for name, value in fields if name in _SECRET_FIELDS]

    def masked(call: CoreCall, response: httpx.Response) -> CivitaiError:
        error = errors(call, response)
        mask_secrets(error, secrets)
        return error

    return CoreCall(
        "POST",
        path,
        content=form_encode(fields).encode("ascii"),
        content_type=FORM_CONTENT_TYPE,
        idempotent=idempotent,
        base_url=normalize_base_url(base_url),
        errors=masked,
        max_body=MAX_OAUTH_BODY,
        watch=watch,
    )


def _tokens_parser(now: float) -> Callable[[httpx.Response], TokenSet]:
    def parse(response: httpx.Response) -> TokenSet:
        return TokenSet.from_response(_success_json(response), now=now)

    return parse


def _refresh_parser(
    now: float, guard: OnceGuard, sent: str
) -> Callable[[httpx.Response], TokenSet]:
    """Read a refresh answer; one without ``refresh_token`` keeps the ``sent`` one.

    RFC 6749 section 6: a server that does not rotate leaves the sent token valid, so
    the new set carries it and the guard forgets it (it may be sent again). A new
    refresh token in the answer always wins.
    """
    read = _tokens_parser(now)

    def parse(response: httpx.Response) -> TokenSet:
        tokens = read(response)
        if tokens.refresh_token is not None:
            return tokens
        guard.release(sent)
        return attrs.evolve(tokens, refresh_token=sent)

    return parse


def _single_use_errors(
    guard: OnceGuard, value: str
) -> Callable[[CoreCall, httpx.Response], CivitaiError]:
    """Error mapping that gives ``value`` back to the guard after a rate-limit refusal."""

    def errors(call: CoreCall, response: httpx.Response) -> CivitaiError:
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            guard.release(value)
        return oauth_error(call, response)

    return errors


def _single_use(
    creds: Credentials,
    guard: OnceGuard,
    value: tuple[str, str],
    fields: list[tuple[str, str]],
    read: Callable[[httpx.Response], TokenSet],
    options: RequestOptions,
) -> Operation[TokenSet]:
    """A token-endpoint grant sending the single-use ``value`` (the value and what it
    is), whose 2xx answer ``read`` reads: never repeated once sent.

    The value is claimed last, once the call and the caller's ``options`` have been
    checked: a call refused before sending leaves it usable. A failure that provably
    left the value unused gives it back: one :func:`may_resend` allows, or any (a
    cancellation too) that came before a byte of the request was written
    (:class:`~civitai_app_sdk._wire.WireWatch`).
    """
    watch = WireWatch()
    call = form_call(
        creds.base_url,
        TOKEN_PATH,
        fields,
        idempotent=False,
        errors=_single_use_errors(guard, value[0]),
        watch=watch,
    )
    call = with_options(call, options)
    guard.claim(*value)

    def release_if_unsent(error: BaseException) -> None:
        if may_resend(error) or watch.unsent():
            guard.release(value[0])

    return Operation(call, read, on_failure=release_if_unsent)


def exchange_call(
    creds: Credentials,
    guard: OnceGuard,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    now: float,
    options: RequestOptions | None = None,
) -> Operation[TokenSet]:
    """``authorization_code`` grant; the code is claimed so it is sent at most once.

    Only a 429 (rate limited before the grant was read) gives the code back.
    """
    nonempty_str("code", code)
    nonempty_str("redirect_uri", redirect_uri)
    nonempty_str("code_verifier", code_verifier)
    fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        *creds.auth_fields(),
        ("code_verifier", code_verifier),
    ]
    value = (code, "authorization code")
    return _single_use(creds, guard, value, fields, _tokens_parser(now), options or {})


def refresh_call(
    creds: Credentials,
    guard: OnceGuard,
    *,
    refresh_token: str,
    now: float,
    options: RequestOptions | None = None,
) -> Operation[TokenSet]:
    """``refresh_token`` grant; the token is claimed (refresh tokens rotate).

    Only a 429 (rate limited before the grant was read) gives the token back, and an
    answer without a new refresh token, which keeps the sent one (RFC 6749 section 6).
    """
    nonempty_str("refresh_token", refresh_token)
    fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        *creds.auth_fields(),
    ]
    value = (refresh_token, "refresh token")
    read = _refresh_parser(now, guard, refresh_token)
    return _single_use(creds, guard, value, fields, read, options or {})


def _revoked(response: httpx.Response) -> None:
    """A 2xx answer revoked the token, unless it is a web page (a captive portal or a
    proxy answered): the token may still work, and a logout must not say otherwise."""
    if is_html(response):
        raise OAuthError(
            "invalid_response",
            "a web page answered instead of the OAuth server: the token may not be revoked "
            "(check the network and the OAuth URL, then revoke again)",
            status=response.status_code,
        )


def revoke_call(creds: Credentials, *, token: str, token_type_hint: str | None) -> Operation[None]:
    """Token revocation; a 2xx answer is success whatever its body, unless it is a web
    page (0.14 took that as success too)."""
    nonempty_str("token", token)
    fields = [("token", token), *creds.auth_fields()]
    if token_type_hint is not None:
        fields.append(("token_type_hint", token_type_hint))
    return Operation(form_call(creds.base_url, REVOKE_PATH, fields, idempotent=True), _revoked)


def device_start_call(
    creds: Credentials, *, scope: ScopeRequest, now: float
) -> Operation[DeviceAuthorization]:
    """Start a device grant for ``scope``."""
    fields = [*creds.auth_fields(), ("scope", str(int(scope_value(scope))))]

    def parse(response: httpx.Response) -> DeviceAuthorization:
        return DeviceAuthorization.from_response(_success_json(response), now=now)

    return Operation(form_call(creds.base_url, DEVICE_PATH, fields, idempotent=True), parse)


def device_poll_call(
    creds: Credentials, *, authorization: DeviceAuthorization, now: float
) -> Operation[TokenSet]:
    """One poll of the device-token endpoint (not the advertised token endpoint)."""
    fields = [
        ("grant_type", DEVICE_GRANT_TYPE),
        ("device_code", authorization.device_code),
        *creds.auth_fields(),
    ]
    call = form_call(creds.base_url, DEVICE_TOKEN_PATH, fields, idempotent=False)
    return Operation(call, _tokens_parser(now))


def _bearer_get(site_url: str, path: str, access_token: str) -> CoreCall:
    nonempty_str("access_token", access_token)
    base = normalize_base_url(site_url)
    return CoreCall(
        "GET", path, base_url=base, token=access_token, errors=oauth_error, max_body=MAX_OAUTH_BODY
    )


def _parse_me(response: httpx.Response) -> CivitaiUser:
    body = _success_json(response)
    try:
        return CivitaiUser.model_validate(body)
    except ValueError:
        raise OAuthError("invalid_response", "unexpected /api/v1/me body") from None


def me_call(site_url: str, *, access_token: str) -> Operation[CivitaiUser]:
    """``GET /api/v1/me`` with a bearer token; error bodies are parsed as JSON too."""
    return Operation(_bearer_get(site_url, ME_PATH, access_token), _parse_me)


def _parse_buzz(response: httpx.Response) -> BuzzBalances:
    try:
        return parse_buzz_balances(_success_json(response))
    except ValueError:
        raise OAuthError("invalid_response", "unexpected buzz.getBuzzAccount body") from None


def buzz_call(site_url: str, *, access_token: str) -> Operation[BuzzBalances]:
    """tRPC ``buzz.getBuzzAccount`` (needs BuzzRead): the spendable pools."""
    return Operation(_bearer_get(site_url, BUZZ_ACCOUNT_PATH, access_token), _parse_buzz)


def _parse_buzz_accounts(response: httpx.Response) -> list[BuzzAccount]:
    try:
        return parse_buzz_accounts(_success_json(response))
    except ValueError:
        raise OAuthError("invalid_response", "unexpected buzz.getUserAccount body") from None


def buzz_user_account_call(site_url: str, *, access_token: str) -> Operation[list[BuzzAccount]]:
    """tRPC ``buzz.getUserAccount`` (needs BuzzRead): the user's accounts, as in 0.14."""
    path = BUZZ_USER_ACCOUNT_PATH
    return Operation(_bearer_get(site_url, path, access_token), _parse_buzz_accounts)

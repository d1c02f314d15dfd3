"""What one client sends with every request (:class:`Settings`) and the token protocol."""

from __future__ import annotations

import http.cookiejar
import os
from collections.abc import Mapping
from typing import Final, Protocol, runtime_checkable

import attrs
import httpx

from . import __version__
from ._deadline import is_seconds
from ._decoding import ACCEPT_ENCODING
from ._headers import check_bearer_url, header_value
from ._limits import DEFAULT_MAX_CONNECTIONS, limits_for
from ._logging import configure_from_env
from ._retry import DEFAULT_MAX_RETRIES, RetryPolicy
from .errors import ConfigurationError

DEFAULT_BASE_URL: Final = "https://orchestration.civitai.com"
"""Production Orchestration API host."""
DEFAULT_TIMEOUT: Final = 30.0
"""Default timeout of a whole request (connect, send, wait and read the answer), seconds."""


@runtime_checkable
class TokenSource(Protocol):
    """The one token protocol: hands out a current bearer token, sync and async.

    A plain string token needs none; :class:`~civitai_app_sdk.oauth.RefreshingTokenProvider`
    implements it (``TokenProvider`` is another name for it).
    """

    def get_token(self) -> str:
        """A valid access token (may block to refresh it)."""
        ...

    async def aget_token(self) -> str:
        """A valid access token (may await a refresh)."""
        ...


def as_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds (connect capped at 10 s); every part finite > 0."""
    if isinstance(timeout, httpx.Timeout):
        parts = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        if not all(is_seconds(p) for p in parts):
            raise ConfigurationError("every part of the timeout must be a positive, finite number")
        return timeout
    if not is_seconds(timeout):
        raise ConfigurationError("timeout must be a positive, finite number of seconds")
    return httpx.Timeout(timeout, connect=min(timeout, 10.0))


def no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing, for the clients the SDK creates.

    The SDK authenticates with tokens; a cookie that one answer (a signed URL's host, a
    gateway) sets must not ride along on later requests.
    """
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _base_headers(settings: Settings) -> dict[str, str]:
    """The agent, JSON, and only the encodings the SDK decodes in bounded memory (httpx
    would offer ``br`` and ``zstd`` too when their packages are installed)."""
    return {
        "User-Agent": settings.user_agent,
        "Accept": "application/json",
        "Accept-Encoding": ACCEPT_ENCODING,
    }


@attrs.frozen
class Settings:
    """What one client sends with every request: origin, token, timeout, retries, agent.

    ``max_connections`` sizes the connection pool a transport creates for itself.

    ``token`` (a string or a :class:`TokenSource`) is sent only to ``base_url``'s origin,
    and only over https there (plain http for loopback). Build it with :meth:`create`.
    """

    base_url: str
    token: str | TokenSource | None = attrs.field(repr=lambda _: "<hidden>")
    timeout: httpx.Timeout
    retry: RetryPolicy
    user_agent: str
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    headers: Mapping[str, str] = attrs.field(
        init=False, repr=False, default=attrs.Factory(_base_headers, takes_self=True)
    )

    @property
    def max_retries(self) -> int:
        """How many times a safe call is repeated after its first attempt."""
        return self.retry.max_retries

    @classmethod
    def create(
        cls,
        *,
        token: str | TokenSource | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        token_env: str | None = "CIVITAI_API_TOKEN",  # noqa: S107 - a variable's name
        url_env: str | None = "CIVITAI_API_URL",
        default_url: str = DEFAULT_BASE_URL,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> Settings:
        """Validate options, fill them from the environment, and build settings.

        ``token`` ``None`` reads ``token_env`` (when named; then a token is required);
        ``base_url`` ``None`` reads ``url_env``, else ``default_url``. Every mistake is a
        :class:`ConfigurationError`.
        """
        configure_from_env()
        if token is None and token_env is not None:
            token = os.environ.get(token_env) or None
            if token is None:
                raise ConfigurationError(f"no access token: pass one or set {token_env}")
        if isinstance(token, str):
            header_value(token, "the access token")
        elif token is not None and not isinstance(token, TokenSource):
            raise ConfigurationError("token must be a string or have get_token()/aget_token()")
        env_url = os.environ.get(url_env) if url_env else None
        chosen = base_url or env_url or default_url
        if not isinstance(chosen, str):
            raise ConfigurationError("base_url must be a str")
        url = chosen.rstrip("/")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ConfigurationError(f"base_url {url!r} is not a valid URL") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigurationError(f"base_url must be an http(s) URL with a host, not {url!r}")
        if parsed.userinfo or parsed.query or parsed.fragment or "#" in url or "?" in url:
            # a path appended to "https://h?q" or "https://h#f" is no path at all, and
            # userinfo would replace the bearer token with Basic credentials
            raise ConfigurationError("base_url must not carry credentials, a query or a fragment")
        if token is not None:
            check_bearer_url(parsed)
        agent = user_agent or f"civitai-app-sdk-python/{__version__}"
        limits_for(max_connections)  # validates it
        return cls(
            base_url=url,
            token=token,
            timeout=as_timeout(timeout),
            retry=RetryPolicy(max_retries=max_retries),
            user_agent=header_value(agent, "user_agent", spaces=True),
            max_connections=max_connections,
        )

    def with_options(
        self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None
    ) -> Settings:
        """A copy with another timeout and/or retry count."""
        return attrs.evolve(
            self,
            timeout=self.timeout if timeout is None else as_timeout(timeout),
            retry=self.retry
            if max_retries is None
            else attrs.evolve(self.retry, max_retries=max_retries),
        )

"""Redirects the SDK follows itself, one hop at a time (a blob's read or download).

httpx builds each hop (``response.next_request``: its method, body and cookie rules, and
Authorization dropped off the origin); :func:`next_hop` adds what httpx does not: the
call's own headers (``extra_headers=``) and an injected client's default headers (but
the harmless :data:`KEPT_DEFAULTS`, see :func:`client_defaults`) stay on the first
request's origin, and no hop leaves https for plain http off loopback. The transports
send each hop with ``follow_redirects=False`` and :data:`NO_AUTH`, so this holds for an
injected client too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

import httpx

from ._loopback import is_loopback

__all__ = ["KEPT_DEFAULTS", "NO_AUTH", "InsecureRedirect", "client_defaults", "next_hop"]

NO_AUTH: Final = httpx.Auth()
"""The auth of a hop: none added (a client's auth applies to the first request only, as
in httpx's own redirects)."""
KEPT_DEFAULTS: Final = frozenset(
    {"accept", "accept-encoding", "accept-language", "connection", "user-agent"}
)
"""An injected client's default headers that may follow a redirect to another origin:
they say what the client is and wants, not who it is."""


class InsecureRedirect(httpx.HTTPError):
    """A redirect from https to plain http off loopback, refused (and not retried)."""


def client_defaults(first: httpx.Request, defaults: httpx.Headers) -> tuple[str, ...]:
    """The headers ``first`` carries from an injected client's ``defaults`` that a hop off
    its origin drops: all but :data:`KEPT_DEFAULTS`, as any other may hold a secret (an
    API key, a cookie, a second Authorization). One the SDK set (to another value) is
    its own, not the client's."""
    return tuple(
        name
        for name, value in defaults.items()
        if name not in KEPT_DEFAULTS and first.headers.get(name) == value
    )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port  # httpx gives a default port as None


def next_hop(
    first: httpx.Request,
    response: httpx.Response,
    history: Sequence[httpx.Response],
    max_redirects: int,
    origin_only: Collection[str],
) -> httpx.Request | None:
    """The request that follows ``response`` (after ``history``'s redirects), if any.

    Raises ``httpx.TooManyRedirects`` past ``max_redirects``, and
    :class:`InsecureRedirect` for a hop to plain http (off loopback) after https. A
    hop off ``first``'s origin loses the ``origin_only`` headers, for good.
    """
    request = response.next_request
    if request is None:
        return None
    if len(history) >= max_redirects:
        raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)
    url = request.url
    secure = any(hop.url.scheme == "https" for hop in (*history, response))
    if secure and url.scheme == "http" and not is_loopback(url.host):
        refused = InsecureRedirect(
            f"the server redirected to an insecure URL (plain http to {url.host}); "
            "it was not followed, so nothing went in clear text"
        )
        refused.request = response.request
        raise refused
    if _origin(url) != _origin(first.url):
        for name in origin_only:
            request.headers.pop(name, None)
    return request

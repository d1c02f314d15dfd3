"""``CivitaiAuth``: "Sign in with Civitai" for Starlette and FastAPI apps.

``auth.install(app)`` adds the login, callback and logout routes, a middleware that
gives each request its :class:`Session` and writes changed cookies back on the
response, and the handler that turns :class:`WebAuthError` into a page. Routes and
FastAPI dependencies then use :meth:`CivitaiAuth.session`, :meth:`CivitaiAuth.require_session`
and :meth:`CivitaiAuth.user`.
"""

from __future__ import annotations

import html
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final
from urllib.parse import unquote, urlencode, urlsplit

from ..errors import ConfigurationError

try:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigurationError(
        "civitai_app_sdk.web needs Starlette: pip install 'civitai-app-sdk[web]'"
    ) from exc

from ..oauth import DEFAULT_ISSUER, DEFAULT_SITE_URL, AsyncOAuthClient, CivitaiUser, ScopeRequest
from .core import DEFAULT_SESSION_MAX_AGE, WebAuthCore
from .errors import CrossSiteRequestError, NotSignedInError, WebAuthError
from .login import DEFAULT_LOGIN_TTL
from .redirects import safe_next_path
from .session import Session, SessionStore

__all__ = ["CivitaiAuth", "ErrorPage"]

ErrorPage = Callable[[Request, WebAuthError], Awaitable[Response]]
"""An app's renderer of sign-in errors: ``async (request, error) -> Response``."""
_STATE_KEY: Final = "civitai_session"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NO_STORE: Final = {"Cache-Control": "no-store"}
_PAGE: Final = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body><main><h1>{title}</h1><p>{message}</p>
<p><a href="{login}">Sign in with Civitai</a> · <a href="/">Home</a></p></main></body></html>
"""


class CivitaiAuth(WebAuthCore):
    """Sign-in with Civitai for an ASGI app: routes, session middleware, dependencies.

    Required: ``client_id``, ``redirect_uri`` (https, or http on loopback; its path
    is the callback route), ``scopes`` (bitmask or names) and ``cookie_secrets``
    (one secret, or a list whose first entry seals and all of which open: rotation).
    ``client_secret`` makes a confidential client; ``store`` keeps tokens server-side
    (the cookie then holds only a sealed session id); ``error_page`` renders
    :class:`WebAuthError` pages. Over https cookies are ``__Host-``-prefixed,
    ``Secure``, ``HttpOnly`` and ``SameSite=Lax``.
    """

    def __init__(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: ScopeRequest,
        cookie_secrets: str | Sequence[str],
        client_secret: str | None = None,
        oauth_url: str = DEFAULT_ISSUER,
        site_url: str = DEFAULT_SITE_URL,
        store: SessionStore | None = None,
        login_path: str = "/auth/login",
        logout_path: str = "/auth/logout",
        after_logout: str = "/",
        error_page: ErrorPage | None = None,
        cookie_name: str = "civitai_session",
        login_cookie_name: str = "civitai_login",
        session_max_age: int = DEFAULT_SESSION_MAX_AGE,
        login_ttl: int = DEFAULT_LOGIN_TTL,
        refresh_margin: float = 60.0,
        user_cache_ttl: float = 300.0,
        oauth_client: AsyncOAuthClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Check every option now, so a misconfigured app fails at start-up.

        ``oauth_url`` and ``site_url`` point at the OAuth server and the site (a local
        stand-in in tests); ``login_ttl`` is how long a sign-in may take, in seconds;
        ``refresh_margin`` how early before expiry tokens are refreshed. Without
        ``oauth_client`` each running event loop gets its own OAuth client (loops in
        threads, as async views of sync frameworks run); a given one is used as it is by
        every loop, one running loop at a time (another loop running at once in a thread
        gets a ``ConfigurationError``).
        """
        super().__init__(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            cookie_secrets=cookie_secrets,
            client_secret=client_secret,
            oauth_url=oauth_url,
            site_url=site_url,
            store=store,
            cookie_name=cookie_name,
            login_cookie_name=login_cookie_name,
            session_max_age=session_max_age,
            login_ttl=login_ttl,
            refresh_margin=refresh_margin,
            user_cache_ttl=user_cache_ttl,
            oauth_client=oauth_client,
            clock=clock,
        )
        for path in (login_path, logout_path, after_logout):
            if safe_next_path(path, "/") != path:
                raise ConfigurationError(f"{path!r} is not a same-site path")
        for path in (login_path, logout_path):
            if "?" in path or "#" in path:
                raise ConfigurationError(f"route path {path!r} may not hold a query or fragment")
        self.login_path = login_path
        self.logout_path = logout_path
        self.after_logout = after_logout
        self._error_page = error_page
        self._own_routes = {_routed(p) for p in (login_path, self.callback_path, logout_path)}
        if "/" in self._own_routes or _routed(after_logout) in self._own_routes:
            # the browser goes to "/" after a sign-in and to after_logout after a sign-out:
            # the login route there signs in again (a loop, or a sign-out that never holds)
            raise ConfigurationError(
                "the login, callback and logout routes may not be '/' nor after_logout"
            )

    def routes(self) -> list[Route]:
        """The login (GET), callback (GET) and logout (POST) routes."""
        return [
            Route(self.login_path, self.login, methods=["GET"], name="civitai_login"),
            Route(self.callback_path, self.callback, methods=["GET"], name="civitai_callback"),
            Route(self.logout_path, self.logout, methods=["POST"], name="civitai_logout"),
        ]

    def install(self, app: Starlette) -> None:
        """Add the routes, the session middleware and the error handler to ``app``.

        ``app`` is a ``Starlette`` or ``FastAPI`` app; call this before it starts.
        """
        app.router.routes.extend(self.routes())
        app.add_middleware(SessionMiddleware, auth=self)
        app.add_exception_handler(WebAuthError, self.error_response)

    def login_url(self, next_path: str = "/") -> str:
        """The app-relative URL that starts a sign-in and comes back to ``next_path``."""
        return f"{self.login_path}?{urlencode({'next': safe_next_path(next_path)})}"

    async def session(self, request: Request) -> Session:
        """The request's session, loaded (a FastAPI dependency: ``Depends(auth.session)``)."""
        session = request.scope.get("state", {}).get(_STATE_KEY)
        if not isinstance(session, Session):
            raise ConfigurationError("call auth.install(app) to add the session middleware")
        return await session.load()

    async def require_session(self, request: Request) -> Session:
        """The session of a signed-in user, with its access token refreshed if due.

        Raises :class:`NotSignedInError` (a GET is sent to sign in) or
        :class:`SessionExpiredError` when the refresh token is refused.
        """
        session = await self.session(request)
        await session.access_token()
        return session

    async def user(self, request: Request) -> CivitaiUser:
        """The signed-in user (cached ``fetch_me``); a dependency like :meth:`session`."""
        return await (await self.require_session(request)).user()

    async def login(self, request: Request) -> Response:
        """Start a sign-in: set the sealed sign-in cookie, 303 to Civitai's authorize URL.

        A ``next`` that leads back to the sign-in routes is ``/``: returning to the login
        route would start the next sign-in, in a loop (each turn a token call).
        """
        session = await self.session(request)
        next_path = request.query_params.get("next")
        if next_path is not None and _routed(next_path) in self._own_routes:
            next_path = "/"
        url = self.start_login(session, next_path)
        return RedirectResponse(url, 303, headers=_NO_STORE)

    async def callback(self, request: Request) -> Response:
        """Finish a sign-in (see :meth:`WebAuthCore.finish_login`), 303 to the ``next`` path."""
        session = await self.session(request)
        params = {
            key: request.query_params[key]
            for key in ("state", "code", "error")
            if key in request.query_params
        }
        next_path = await self.finish_login(session, params)
        headers = {**_NO_STORE, "Referrer-Policy": "no-referrer"}
        return RedirectResponse(next_path, 303, headers=headers)

    async def logout(self, request: Request) -> Response:
        """Revoke the token, clear the cookies, 303 to ``after_logout``."""
        await self.end_session(await self.session(request))
        return RedirectResponse(self.after_logout, 303, headers=_NO_STORE)

    async def error_response(self, request: Request, exc: Exception) -> Response:
        """The page for a :class:`WebAuthError`; a signed-out GET is sent to sign in."""
        if not isinstance(exc, WebAuthError):
            raise exc
        if isinstance(exc, NotSignedInError) and request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(self.login_url(target), 303, headers=_NO_STORE)
        if self._error_page is not None:
            return await self._error_page(request, exc)
        page = _PAGE.format(
            title=html.escape(exc.title),
            message=html.escape(str(exc)),
            login=html.escape(self.login_path),
        )
        return HTMLResponse(page, exc.status, headers=_NO_STORE)

    def cross_site(self, scope: Scope) -> bool:
        """Whether an unsafe-method request comes from another origin (CSRF defence)."""
        if scope.get("method", "GET") in _SAFE_METHODS:
            return False
        headers = dict(_decoded(scope.get("headers", ())))
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return True
        origin = headers.get("origin")
        return origin is not None and origin.lower() != self.origin


def _routed(value: str) -> str:
    """The route a same-site ``value`` reaches, at its widest: its path percent-decoded
    (the server decodes it, ``%2F`` too), without dot segments (the browser removes them),
    empty segments or a final slash."""
    segments: list[str] = []
    for segment in unquote(urlsplit(value).path).split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return "/" + "/".join(segments)


def _decoded(raw: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(key.decode("latin-1").lower(), value.decode("latin-1")) for key, value in raw]


class SessionMiddleware:
    """Gives every HTTP request a :class:`Session` and writes its cookies on the response.

    A response that carries them is ``Cache-Control: no-store`` whatever the app said:
    a shared cache keeping it would hand the user's session to whoever asks next.

    A request that fails with an exception before answering still gets its cookies, on
    a plain 500 answer (a refreshed token pair must reach the browser: the old refresh
    token is dead).

    Also refuses state-changing requests (POST, PUT, PATCH, DELETE) sent from another
    origin, a defence against CSRF on top of ``SameSite=Lax``.
    """

    def __init__(self, app: ASGIApp, auth: CivitaiAuth) -> None:
        """Wrap ``app``."""
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its session; add ``Set-Cookie`` headers when it changed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # HTTP/2 may split the Cookie header into one field per cookie (RFC 9113 8.2.3)
        fields = [v for k, v in _decoded(scope.get("headers", ())) if k == "cookie"]
        cookie = "; ".join(fields) if fields else None
        session = self.auth.new_session(cookie)
        scope.setdefault("state", {})[_STATE_KEY] = session
        if self.auth.cross_site(scope):
            error = CrossSiteRequestError("This request came from another site and was refused.")
            response = await self.auth.error_response(Request(scope, receive), error)
            await response(scope, receive, send)
            return

        started = False

        async def send_with_cookies(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if session.changed:
                    # a shared cache must never hand this Set-Cookie (a session) to others
                    headers = [
                        (name, value)
                        for name, value in message.get("headers", [])
                        if name.lower() != b"cache-control"
                    ]
                    headers.append((b"cache-control", b"no-store"))
                    headers += [
                        (b"set-cookie", h.encode("latin-1")) for h in session.set_cookie_headers()
                    ]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookies)
        except Exception:
            # The server's own 500 page would go out without the cookies, losing a token
            # pair the request had already rotated: send it here, with them.
            if not started and session.changed:
                failed = PlainTextResponse("Internal Server Error", 500, headers=_NO_STORE)
                await failed(scope, receive, send_with_cookies)
            raise

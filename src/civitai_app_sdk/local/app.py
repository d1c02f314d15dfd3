"""The local server's ASGI application: orchestrator, OAuth server and site endpoints."""

from __future__ import annotations

import logging
from typing import Final, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .blob_routes import blob_routes
from .bodies import BodyTooLargeError
from .clock import Clock
from .faults import FaultMiddleware
from .oauth import oauth_routes
from .operations import operation_routes
from .problems import problem
from .site import site_routes
from .state import LocalConfig, ServerState
from .workflows import workflow_routes

__all__ = ["create_app"]

_log: Final = logging.getLogger("civitai_app_sdk.local")


async def _http_error(_: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return problem(status)


async def _too_large(_: Request, exc: Exception) -> Response:
    """A body past the cap answers 413 ProblemDetails (the rest is never read)."""
    return cast(BodyTooLargeError, exc).response()


class _CrashAsProblem:
    """A crash answers 500 ProblemDetails, as ASP.NET does, and the connection lives on.

    Starlette's own catch-all answers and then re-raises, so uvicorn closes the kept-alive
    connection without saying so and the client's next request on it is reset. A crash
    after the answer began, or a client that went away, still ends the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap the routes."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; an exception before the answer began becomes a 500."""
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            raise
        except Exception:
            if started or scope["type"] != "http":
                raise
            _log.exception("Exception in the local server's %s handler", scope["path"])
            crash = problem(500, "An unexpected error occurred in the local server.")
            await crash(scope, receive, send)


def create_app(
    config: LocalConfig | None = None, *, clock: Clock | None = None
) -> tuple[ASGIApp, ServerState]:
    """The app (with fault injection outermost) and the state it serves from."""
    state = ServerState(config or LocalConfig(), clock)
    app = Starlette(
        routes=[
            *operation_routes(),
            *workflow_routes(),
            *blob_routes(),
            *oauth_routes(),
            *site_routes(),
        ],
        middleware=[Middleware(_CrashAsProblem)],
        exception_handlers={HTTPException: _http_error, BodyTooLargeError: _too_large},
    )
    app.state.local = state
    return FaultMiddleware(app, state.config.faults, seed=state.config.fault_seed), state

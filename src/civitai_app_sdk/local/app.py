"""The local server's ASGI application: orchestrator, OAuth server and site endpoints."""

from __future__ import annotations

from typing import cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

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


async def _http_error(_: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return problem(status)


async def _too_large(_: Request, exc: Exception) -> Response:
    """A body past the cap answers 413 ProblemDetails (the rest is never read)."""
    return cast(BodyTooLargeError, exc).response()


async def _server_error(_: Request, exc: Exception) -> Response:
    """A crash answers 500 ProblemDetails, as ASP.NET does, not starlette's plain text."""
    return problem(500, "An unexpected error occurred in the local server.")


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
        exception_handlers={
            HTTPException: _http_error,
            BodyTooLargeError: _too_large,
            Exception: _server_error,
        },
    )
    app.state.local = state
    return FaultMiddleware(app, state.config.faults, seed=state.config.fault_seed), state

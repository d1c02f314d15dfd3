"""The main site's token endpoints: ``/api/v1/me``, OAuth userinfo and the Buzz balance."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civitai_app_sdk.scopes import TokenScope

from .auth import Principal
from .problems import trpc_error
from .state import local_state
from .store import USER_ID

__all__ = ["principal", "site_routes"]

USERNAME: Final = "local-user"
"""Username of the one local user."""


def principal(request: Request) -> Principal | None:
    """The caller behind the request's Bearer token, if it is accepted."""
    state = local_state(request)
    return state.tokens.principal(request.headers.get("authorization"), state.clock.now())


async def me(request: Request) -> Response:
    """``GET /api/v1/me``: the local user, with the token's scope and subject."""
    caller = principal(request)
    if caller is None:
        return JSONResponse({"error": "Unauthorized"}, 401)
    subject = {"type": caller.kind, "id": caller.client_id or 1}
    return JSONResponse(
        {
            "id": USER_ID,
            "username": USERNAME,
            "tier": "free",
            "status": "active",
            "isMember": False,
            "subscriptions": [],
            "email": "local-user@localhost",
            "emailVerified": True,
            "tokenScope": caller.scope,
            "subject": subject,
            "buzzLimit": None,
        }
    )


async def userinfo(request: Request) -> Response:
    """OIDC userinfo: OAuth access tokens with UserRead only."""
    caller = principal(request)
    if caller is None or caller.kind != "oauth":
        return JSONResponse({"error": "invalid_token"}, 401)
    if not caller.scope & TokenScope.UserRead:
        return JSONResponse({"error": "insufficient_scope"}, 403)
    return JSONResponse(
        {
            "sub": str(USER_ID),
            "id": USER_ID,
            "username": USERNAME,
            "preferred_username": USERNAME,
            "name": USERNAME,
            "picture": None,
            "image": None,
            "roles": [],
            "isModerator": False,
            "tier": "free",
            "email": "local-user@localhost",
            "email_verified": True,
        }
    )


def _buzz_pools(request: Request) -> dict[str, int] | Response:
    """The settled pools of the caller, or the tRPC error to answer (needs BuzzRead)."""
    state = local_state(request)
    caller = principal(request)
    if caller is None:
        return trpc_error("UNAUTHORIZED", "UNAUTHORIZED", 401)
    if not caller.scope & TokenScope.BuzzRead:
        return trpc_error("FORBIDDEN", "Missing the BuzzRead scope", 403)
    state.store.settle_all(state.clock.now())
    return state.store.ledger.balance()


async def buzz_account(request: Request) -> Response:
    """tRPC ``buzz.getBuzzAccount``: the spendable pools (needs BuzzRead)."""
    pools = _buzz_pools(request)
    if isinstance(pools, Response):
        return pools
    return JSONResponse({"result": {"data": {"json": pools}}})


async def buzz_user_account(request: Request) -> Response:
    """tRPC ``buzz.getUserAccount``: one ``{id, balance, lifetimeBalance, accountType}`` a pool."""
    pools = _buzz_pools(request)
    if isinstance(pools, Response):
        return pools
    accounts = [
        {"id": USER_ID, "balance": balance, "lifetimeBalance": None, "accountType": kind}
        for kind, balance in pools.items()
    ]
    return JSONResponse({"result": {"data": {"json": accounts}}})


def site_routes() -> list[Route]:
    """The site and userinfo routes."""
    return [
        Route("/api/v1/me", me, methods=["GET"]),
        Route("/api/auth/oauth/userinfo", userinfo, methods=["GET"]),
        Route("/api/trpc/buzz.getBuzzAccount", buzz_account, methods=["GET"]),
        Route("/api/trpc/buzz.getUserAccount", buzz_user_account, methods=["GET"]),
    ]

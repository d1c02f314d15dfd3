"""Fault injection for the local server: bounded, counted rules applied per request."""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import attrs
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civitai_app_sdk.errors import ConfigurationError

from .problems import problem

__all__ = [
    "MAX_DELAY",
    "MAX_TIMES",
    "SUBMIT_ONLY",
    "ConnectionDropped",
    "FaultMiddleware",
    "FaultRule",
]

FaultKind = Literal[
    "latency", "429", "500", "502", "503", "504", "502-html", "drop", "lost", "late"
]
"""The kinds of fault a :class:`FaultRule` injects."""
SUBMIT_ONLY: Final = frozenset({"lost", "late"})
"""Kinds that only ever hit a real submit (``POST`` workflows without ``whatif=true``)."""
MAX_TIMES: Final = 10_000
"""Upper bound on how many requests one rule may hit."""
MAX_DELAY: Final = 30.0
"""Upper bound on injected latency and Retry-After, seconds."""
_SUBMIT_PATH: Final = "/v2/consumer/workflows"
_HTML: Final = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
)


class ConnectionDropped(Exception):
    """Raised mid-response so the server closes the connection (the client sees it drop)."""


def _bounded(limit: float) -> Callable[[object, Any, float], None]:
    def check(_: object, attribute: Any, value: float) -> None:
        if not 0 <= value <= limit:
            raise ConfigurationError(f"{attribute.name} must be within 0…{limit}")

    return check


def _is_submit(scope: Scope) -> bool:
    """Whether the request is a real (charging) submit, not a whatif estimate."""
    if scope["method"] != "POST" or scope["path"].rstrip("/") != _SUBMIT_PATH:
        return False
    query = scope.get("query_string", b"").decode("latin-1").lower()
    return re.search(r"(?:^|&)whatif=true(?:&|$)", query) is None


@attrs.define
class FaultRule:
    """Answer the next ``times`` matching requests with a fault.

    ``kind``: ``latency`` (wait ``seconds``, then serve normally), ``429`` (with
    ``Retry-After: seconds``), ``500``/``502``/``503``/``504`` (JSON problem),
    ``502-html`` (a gateway HTML page), ``drop`` (run the request, then cut the connection
    mid-response), and, on submits only (never a whatif estimate): ``lost`` (the workflow
    is created and charged, then the connection closes before the answer's body) and
    ``late`` (created and charged, answered after ``seconds``). ``method`` and ``path`` (a regex
    searched in the path) narrow the rule; ``None`` matches everything. ``chance`` is the
    probability that a matching request is hit (drawn from the server's seeded random).
    """

    kind: FaultKind
    times: int = attrs.field(default=1, validator=_bounded(MAX_TIMES))
    seconds: float = attrs.field(default=1.0, validator=_bounded(MAX_DELAY))
    method: str | None = None
    path: str | None = None
    chance: float = attrs.field(default=1.0, validator=_bounded(1.0))
    hits: int = 0

    def take(self, scope: Scope, rng: random.Random) -> bool:
        """Whether this request is hit (and count it)."""
        if self.hits >= self.times:
            return False
        if self.kind in SUBMIT_ONLY and not _is_submit(scope):
            return False
        if self.method is not None and self.method.upper() != scope["method"]:
            return False
        if self.path is not None and re.search(self.path, scope["path"]) is None:
            return False
        if self.chance < 1.0 and rng.random() >= self.chance:
            return False
        self.hits += 1
        return True


async def _drop_after(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    async def send_head_only(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            raise ConnectionDropped("fault injection: connection dropped")

    await app(scope, receive, send_head_only)


async def _answer_late(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, delay: float
) -> None:
    """Run the request to completion, then send its answer after ``delay`` seconds."""
    held: list[Message] = []

    async def keep(message: Message) -> None:
        held.append(message)

    await app(scope, receive, keep)
    await asyncio.sleep(delay)
    for message in held:
        await send(message)


class FaultMiddleware:
    """ASGI middleware applying the first matching :class:`FaultRule` of each request."""

    def __init__(self, app: ASGIApp, rules: Sequence[FaultRule], *, seed: int = 0) -> None:
        """Wrap ``app``; ``rules`` are consulted in order, their counters shared.

        ``seed`` makes the draws of rules with a ``chance`` below 1 repeatable.
        """
        self.app = app
        self.rules = list(rules)
        self.rng = random.Random(seed)  # noqa: S311 - test faults, not cryptography

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, possibly with a fault."""
        rule = None
        if scope["type"] == "http":
            rule = next((r for r in self.rules if r.take(scope, self.rng)), None)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "latency":
            await asyncio.sleep(rule.seconds)
            await self.app(scope, receive, send)
        elif rule.kind in ("drop", "lost"):
            await _drop_after(self.app, scope, receive, send)
        elif rule.kind == "late":
            await _answer_late(self.app, scope, receive, send, rule.seconds)
        else:
            await _fault_response(rule)(scope, receive, send)


def _fault_response(rule: FaultRule) -> ASGIApp:
    if rule.kind == "429":
        retry = {"Retry-After": str(math.ceil(rule.seconds))}
        return problem(429, "Rate limit exceeded (fault injection).", headers=retry)
    if rule.kind == "502-html":
        return Response(_HTML, 502, media_type="text/html")
    return problem(int(rule.kind), "Injected server error (fault injection).")

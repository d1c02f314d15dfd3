"""Request helpers shared by the orchestrator routes: auth, query values, strict bodies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from civitai_app_sdk import models
from civitai_app_sdk.scopes import TokenScope

from .auth import Principal
from .bodies import capped_body
from .problems import (
    bare_string,
    pointer_to_path,
    problem,
    validation_errors,
    validation_problem,
)
from .render import Renderer
from .site import principal
from .state import local_state

__all__ = [
    "READ",
    "WRITE",
    "BadRequestError",
    "authorized",
    "bool_param",
    "date_param",
    "int_param",
    "json_body",
    "local_state",
    "renderer",
    "spender",
    "strict_model",
]

READ: Final = int(TokenScope.AIServicesRead)
"""AIServicesRead as a bitmask: the scope every call needs."""
WRITE: Final = int(TokenScope.AIServicesWrite)
"""AIServicesWrite as a bitmask: the scope of calls that spend Buzz or change things."""

M = TypeVar("M", bound=BaseModel)


class BadRequestError(Exception):
    """A request that is answered with a 400 ValidationProblemDetails."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        """Keep the ``errors`` map."""
        super().__init__(errors)
        self.errors = errors

    def response(self) -> Response:
        """The 400 answer."""
        return validation_problem(self.errors)


def renderer(request: Request) -> Renderer:
    """A renderer whose URLs point at the host the request came to."""
    state = local_state(request)
    return Renderer(state.store, state.signer, str(request.base_url).rstrip("/"))


def authorized(request: Request, scope: int) -> Principal | Response:
    """The caller, or a 401/403 problem when the token is missing, unknown or lacks ``scope``."""
    caller = principal(request)
    if caller is None:
        return problem(
            401, "A valid Bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
        )
    if not caller.scope & scope:
        return problem(403, "The token lacks the scope this operation needs.")
    return caller


def spender(request: Request) -> Principal | Response:
    """The caller of a call that spends Buzz: any AIServices token may ask (else the
    401/403 problem of :func:`authorized`), only an AIServicesWrite one may spend (else
    the API's 403 string)."""
    caller = authorized(request, READ)
    if isinstance(caller, Response) or caller.scope & WRITE:
        return caller
    return bare_string(403, "The token is not allowed to spend Buzz (AIServicesWrite).")


def int_param(request: Request, name: str, default: int) -> int:
    """An int32 query value (raises :class:`BadRequestError`)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError({name: [f"The value '{raw}' is not valid."]}) from None
    if not -(2**31) <= value < 2**31:
        raise BadRequestError({name: [f"The value '{raw}' is not valid."]})
    return value


def bool_param(request: Request, name: str, default: bool) -> bool:
    """A boolean query value, ``true``/``false`` in any case (raises :class:`BadRequestError`)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise BadRequestError({name: [f"The value '{raw}' is not valid."]})
    return raw.lower() == "true"


def date_param(request: Request, name: str) -> float | None:
    """An ISO date-time query value as epoch seconds (naive means UTC)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError({name: [f"The value '{raw}' is not valid."]}) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


async def json_body(request: Request) -> Any:
    """The parsed JSON body (raises :class:`BadRequestError` for malformed JSON, and for JSON
    nested deeper than Python's parser reads, as the API refuses one past its depth limit;
    :class:`.BodyTooLargeError`, a 413, for a body past :data:`.MAX_BODY`)."""
    body = await capped_body(request)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError({"$": [f"The JSON value could not be parsed: {exc}"]}) from None
    except RecursionError:
        raise BadRequestError(
            {"$": ["The JSON value could not be parsed: it is nested too deeply."]}
        ) from None


def strict_model(model: type[M], body: Any) -> M:
    """``body`` read as ``model``, refusing extra fields, unknown tags and unknown values.

    The JSON is read strictly: a wrong-typed value (``"yes"`` for a boolean, ``"5"`` for a
    number) is a 400, as in ASP.NET's binder.
    """
    try:
        value = model.model_validate_json(json.dumps(body), strict=True)
    except ValidationError as exc:
        raise BadRequestError(validation_errors(exc)) from None
    errors: dict[str, list[str]] = {}
    for item in models.request_problems(value):
        pointer, _, message = item.partition(": ")
        parts = [p for p in pointer.split("/") if p]
        errors.setdefault(pointer_to_path(parts), []).append(message)
    if errors:
        raise BadRequestError(errors)
    return value

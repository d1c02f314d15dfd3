"""Reading response bodies into the generated models.

The models are lenient where the API really varies (unknown step types, enum values and
extra fields survive, also inside the request models a response echoes; fields the spec
calls required but the service omits are patched to optional in `codegen/patches.toml`).
A body that still does not fit is reported as a :class:`ResponseValidationError` carrying
the body; nothing is invented to make it fit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from civitai_app_sdk_generated._base import (
    json_location,
    refresh_lazy_unions,
    reported_errors,
    with_extra,
)
from pydantic import TypeAdapter, ValidationError

from .._transport import BODY_LIMIT, request_id
from ..errors import ResponseValidationError, parse_body


class _Adapters:
    """The adapters made since the models were last rebuilt (older ones are dropped)."""

    made: ClassVar[dict[Any, TypeAdapter[Any]]] = {}
    generation = -1


def adapter(kind: Any) -> TypeAdapter[Any]:
    """A cached TypeAdapter for a model class or union alias.

    Models that hold a lazy union are rebuilt first when it has built new members (see
    `refresh_lazy_unions`); the cache then starts afresh, so an adapter reads those
    members natively and the old ones do not pile up.
    """
    generation = refresh_lazy_unions()
    if generation != _Adapters.generation:
        _Adapters.made = {}
        _Adapters.generation = generation
    found = _Adapters.made.get(kind)
    if found is None:
        found = _Adapters.made[kind] = TypeAdapter(kind)
    return found


def read(kind: Any, content: bytes, what: str, response: httpx.Response | None = None) -> Any:
    """Parse the JSON body ``content`` as ``kind``, or raise :class:`ResponseValidationError`.

    The error carries ``response`` (status, headers, request id) when it is given.
    """
    try:
        return adapter(kind).validate_json(
            content, extra="allow", context=with_extra(None, "allow")
        )
    except ValidationError as error:
        text = content.decode("utf-8", errors="replace")
        first = reported_errors(error)[0]
        where = "/".join(map(str, json_location(first["loc"])))
        raise ResponseValidationError(
            f"the {what} in the response does not match the API's schema: "
            f"{error.error_count()} problem(s), first: {first['msg']} at {where}",
            body=parse_body(text),
            body_text=text[:BODY_LIMIT],
            status=None if response is None else response.status_code,
            request_id=None if response is None else request_id(response),
            headers=None if response is None else response.headers,
            response=response,
        ) from None

"""Query strings and path segments of the orchestrator's requests, without the models.

Building a request's URL needs no model class, so the CLI's read-only commands (and
anything else that only moves JSON) can use these without loading pydantic or the
generated models.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import quote

from ..errors import RequestValidationError

__all__ = [
    "EXTERNAL_ID",
    "MAX_WAIT",
    "WORKFLOWS",
    "hold_params",
    "list_params",
    "segment",
    "text",
]

MAX_WAIT: Final = 90.0
"""Longest server hold (`wait`) one request may ask for; the edge cuts requests at 100 s."""
WORKFLOWS: Final = "/v2/consumer/workflows"
"""Path of the workflow collection."""
EXTERNAL_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""What an idempotency key (``externalId``) may be, as a whole (``fullmatch``)."""


def invalid(problem: str) -> RequestValidationError:
    """The error for a bad argument (nothing was sent)."""
    return RequestValidationError([problem], "argument")


def segment(value: str, what: str, *, safe: str = "") -> str:
    """``value`` as exactly one URL path segment, whatever it holds.

    Encoded like JS ``encodeURIComponent`` (plus any ``safe`` characters, never ``/``).
    Empty or non-string values, values of dots only (``.``, ``..``, ``...``: even
    written ``%2E``, a proxy that decodes before it resolves dots would drop the segment
    or climb a level) and lone surrogates raise :class:`RequestValidationError` naming
    ``what``; nothing is sent.
    """
    if not isinstance(value, str) or not value:
        raise invalid(f"{what}: must be a non-empty string")
    if not value.strip("."):
        raise invalid(
            f"{what}: {value!r} is only dots, which a URL path reads as 'this' or 'the "
            "parent' resource; no id or name is only dots"
        )
    try:
        return quote(value, safe="!~*'()" + safe.replace("/", ""))
    except UnicodeEncodeError:
        raise invalid(f"{what}: contains a lone surrogate (not valid text)") from None


def text(value: object, what: str) -> str:
    """``value`` for the query string: a string (never another object's ``str()``)."""
    if not isinstance(value, str):
        raise invalid(f"{what}: must be a string, not {type(value).__name__}")
    return value


def flag(value: bool, what: str) -> str:
    """``true``/``false`` for a real bool (the string ``"false"`` is not a flag)."""
    if not isinstance(value, bool):
        raise invalid(f"{what}: must be True or False, not {type(value).__name__}")
    return "true" if value else "false"


def _wait(wait: float | None) -> int:
    if wait is None:
        return 0
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= MAX_WAIT:
        raise invalid(f"wait: must be between 0 and {MAX_WAIT:g} seconds")
    return math.ceil(wait)


def hold_params(
    wait: float | None, hide_mature_content: bool | None
) -> tuple[int, tuple[tuple[str, str], ...]]:
    """The whole seconds of server hold, and the ``wait``/``hideMatureContent`` query."""
    seconds = _wait(wait)
    params: list[tuple[str, str]] = []
    if seconds:
        params.append(("wait", str(seconds)))
    if hide_mature_content is not None:
        params.append(("hideMatureContent", flag(hide_mature_content, "hide_mature_content")))
    return seconds, tuple(params)


def date(value: dt.datetime | str, what: str) -> str:
    """A query date: a string as given, an aware datetime in UTC with a ``Z``."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise invalid(f"{what}: must be a timezone-aware datetime (datetime.UTC) or a string")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def list_params(
    *,
    tags: Sequence[str] | str | None = None,
    query: str | None = None,
    from_date: dt.datetime | str | None = None,
    to_date: dt.datetime | str | None = None,
    ascending: bool | None = None,
    exclude_failed: bool | None = None,
    hide_mature_content: bool | None = None,
    take: int | None = None,
    cursor: str | None = None,
) -> tuple[tuple[str, str], ...]:
    """The query of QueryWorkflows (``GET`` :data:`WORKFLOWS`) for these filters."""
    params: list[tuple[str, str]] = []
    for tag in [tags] if isinstance(tags, str) else tags or ():
        params.append(("tags", text(tag, "tags")))
    if query is not None:
        params.append(("query", text(query, "query")))
    if from_date is not None:
        params.append(("fromDate", date(from_date, "from_date")))
    if to_date is not None:
        params.append(("toDate", date(to_date, "to_date")))
    for name, value in (
        ("ascending", ascending),
        ("excludeFailed", exclude_failed),
        ("hideMatureContent", hide_mature_content),
    ):
        if value is not None:
            params.append((name, flag(value, name)))
    if take is not None:
        if isinstance(take, bool) or not isinstance(take, int) or take < 1:
            raise invalid("take: must be a whole number >= 1")
        params.append(("take", str(take)))
    if cursor:
        params.append(("cursor", text(cursor, "cursor")))
    return tuple(params)

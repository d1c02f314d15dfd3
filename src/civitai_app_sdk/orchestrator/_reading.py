"""Reading response bodies into the generated models.

The models are lenient where the API really varies (unknown step types, enum values and
extra fields survive, also inside the request models a response echoes; fields the spec
calls required but the service omits are patched to optional in `codegen/patches.toml`).
A string with a lone surrogate (``"\\ud800"``) gets U+FFFD in its place, as in
JavaScript. A ``null`` where the spec promises a list or an object (a service that leaves
a collection unset) is read as an empty one, a ``null`` the spec does not allow elsewhere
as if the field were absent, and a ``null`` list item the model cannot hold is left out;
the rest of the answer is kept. A value past the spec's bounds, lengths or patterns is
kept as sent (the service may widen a range or add a form first: :mod:`._relaxed`), and a
date-time without a time zone is read as UTC. A body that still does not fit is reported
as a :class:`ResponseValidationError` carrying the body; nothing else is invented to make
it fit.

An answer over :data:`LARGE_ANSWER` is read by validators whose lists stop at their first
bad item (:mod:`._fail_fast`), so refusing a hostile one costs about one read of it, not
seconds per hundred thousand problems; it is mended the same ways, and its error counts
"at least" the problems it found. A smaller answer whose tagged unions fail more than
:data:`UNION_FAILURES` times (each failure a Python call) stops being read strictly there
and is refused the same way; a valid answer or one with a few problems is read and
reported as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import httpx
from civitai_app_sdk_generated._base import (
    UNION_FAILURES_LEFT,
    UNLISTED_TAG,
    TooManyUnionFailures,
    json_location,
    refresh_lazy_unions,
    reported_errors,
    union_props,
    with_extra,
)
from pydantic import TypeAdapter, ValidationError
from pydantic_core import CoreSchema, SchemaValidator

from .._failures import BODY_LIMIT, html_type, is_html, request_id
from ..errors import ResponseValidationError, UnparsedBody
from ._fail_fast import fail_fast_validator, relaxed_fail_fast_validator
from ._relaxed import MENDED, relaxed_validator

_Make = Callable[[CoreSchema], SchemaValidator]
"""Derives a validator from an adapter's core schema (:mod:`._relaxed`, :mod:`._fail_fast`)."""


class _Adapters:
    """The adapters, and the validators derived from them, made for one generation of the
    models (see `refresh_lazy_unions`)."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.made: dict[Any, TypeAdapter[Any]] = {}
        self.derived: dict[tuple[_Make, Any], SchemaValidator] = {}


_current = _Adapters(-1)


def _adapters() -> _Adapters:
    """The cache of the current models: those that hold a lazy union are rebuilt first
    when it has built new members, and the cache then starts afresh (a thread still
    using the old one adds to it, not to the new one, and the old ones do not pile up)."""
    global _current
    generation = refresh_lazy_unions()
    current = _current
    if current.generation != generation:
        current = _current = _Adapters(generation)
    return current


def _made(adapters: _Adapters, kind: Any) -> TypeAdapter[Any]:
    found = adapters.made.get(kind)
    if found is None:
        found = adapters.made[kind] = TypeAdapter(kind)
    return found


def adapter(kind: Any) -> TypeAdapter[Any]:
    """A cached TypeAdapter for a model class or union alias, which reads the members
    lazy unions have built natively (see :func:`_adapters`)."""
    return _made(_adapters(), kind)


def _derived(kind: Any, make: _Make) -> SchemaValidator:
    """The validator ``make`` derives from the core schema of ``kind``'s adapter, cached
    with that adapter."""
    adapters = _adapters()
    found = adapters.derived.get((make, kind))
    if found is None:
        made = _made(adapters, kind)
        made.rebuild()  # an adapter of deferred models builds its schema when first used
        found = adapters.derived[make, kind] = make(made.core_schema)
    return found


MOST_LENIENT: Final = 1000
"""An answer with more problems than this is broken, not a service ahead of its spec: a
lenient read stops there, which bounds what a hostile body costs (the strict parse is
the rest)."""
LARGE_ANSWER: Final = 1024 * 1024
"""Bytes past which an answer is read failing fast: the strict read lists every problem
(2 MB of hostile steps took 5 s), while a workflow of 100 real steps or a page of 100
workflows is about 300 KB."""
UNION_FAILURES: Final = 10 * MOST_LENIENT
"""Values a strict read may read into no member of a tagged union before it stops: each
costs a Python call (a body of 260,000 bad steps under :data:`LARGE_ANSWER` took 3 to 8 s
to refuse). A problem counts once per union it is in (up to 5: a step's type, engine,
ecosystem, model, operation), so an answer with at most :data:`MOST_LENIENT` problems is
read to the end. Past it, the answer is refused as a large one is, counting "at least"
the problems a fail-fast read finds."""
_DROP: Final = object()
_NULL_ROUNDS: Final = 4
"""Tries at dropping refused nulls (each may reveal others inside union members)."""


_MENDABLE: Final = MENDED | {"json_invalid"}
"""Types of the problems a lenient read may mend (with a refused ``null``, any type):
an answer with none of them is broken, and read no further."""

_EMPTY: Final = {"list_type": list, "dict_type": dict}
"""A refused ``null`` object member read as an empty list or object, by what was expected."""


def _is_null_at(items: list[Any], index: int) -> bool:
    return 0 <= index < len(items) and items[index] is None


def _alike(data: Any, path: tuple[int | str, ...], loc: tuple[int | str, ...]) -> list[Any]:
    """The parent of ``path`` in ``data`` and of the same path through the other items of
    each list it passes, where those read the same way: through each union ``loc`` (the
    error's location) enters, the same member (the same tag). A fail-fast read names a
    refused ``null`` in a list's first bad item only; the same ``null`` of the other
    items is refused too. (No tuple per node: allocating millions makes the garbage
    collector walk the whole parsed body again and again.)"""
    unions = union_props(loc)
    seen = data  # the node on ``path``
    others: list[Any] = []  # the alike ones off it
    for depth, part in enumerate(path):
        for prop in (prop for at, prop in unions if at == depth):
            tag = seen.get(prop) if isinstance(seen, dict) else None
            same = (node for node in others if type(node) is dict and node.get(prop) == tag)
            others = [] if tag is None else list(same)
        if depth == len(path) - 1:
            break
        if isinstance(part, str):
            others = [node[part] for node in others if type(node) is dict and part in node]
        else:
            others = [item for node in others if type(node) is list for item in node]
            if isinstance(seen, list) and 0 <= part < len(seen):
                others += seen[:part] + seen[part + 1 :]
        seen = value_at(seen, (part,))
    return [seen, *others]


def _drop_refused_nulls(data: Any, error: ValidationError, *, fail_fast: bool = False) -> bool:
    """Replace or remove in ``data`` each ``null`` the model refused; True if any was.

    A refused ``null`` object member becomes ``[]`` or ``{}`` when a list or an object was
    expected, and is deleted otherwise (the field takes its default, or is reported
    missing when it has none); a refused ``null`` list item is left out. A ``fail_fast``
    read names those of a list's first bad item only: the same ``null`` of its other
    items goes too (:func:`_alike`).
    """
    lists: dict[int, list[Any]] = {}
    changed = False
    for item in error.errors():
        path = json_location(item["loc"])
        if item["input"] is not None or not path:
            continue
        key = path[-1]
        alike = _alike(data, path, item["loc"]) if fail_fast else [value_at(data, path[:-1])]
        for parent in alike:
            if isinstance(parent, dict) and isinstance(key, str) and key in parent:
                if parent[key] is None:
                    empty = _EMPTY.get(item["type"])
                    if empty is None:
                        del parent[key]
                    else:
                        parent[key] = empty()
                    changed = True
            elif isinstance(parent, list) and isinstance(key, int):
                if fail_fast and None in parent:  # each null item: the same schema
                    lists[id(parent)] = parent
                elif _is_null_at(parent, key):
                    parent[key] = _DROP
                    lists[id(parent)] = parent
    for items in lists.values():
        kept = [item for item in items if item is not _DROP]
        items[:] = [item for item in kept if item is not None] if fail_fast else kept
        changed = True
    return changed


def _validate(kind: Any, content: bytes | str) -> Any:
    """The strict read, stopped by `TooManyUnionFailures` past :data:`UNION_FAILURES`."""
    budget = UNION_FAILURES_LEFT.set([UNION_FAILURES])  # this thread's or task's only
    try:
        return adapter(kind).validate_json(
            content, extra="allow", context=with_extra(None, "allow")
        )
    finally:
        UNION_FAILURES_LEFT.reset(budget)


def _validate_fail_fast(kind: Any, content: bytes) -> Any:
    fast = _derived(kind, fail_fast_validator)
    return fast.validate_json(content, extra="allow", context=with_extra(None, "allow"))


def _validate_relaxed(kind: Any, content: str, fail_fast: bool) -> Any:
    if fail_fast:
        relaxed = _derived(kind, relaxed_fail_fast_validator)
    else:
        relaxed = _derived(kind, relaxed_validator)
    return relaxed.validate_json(content, extra="allow", context=with_extra(None, "allow"))


def value_at(data: Any, path: tuple[int | str, ...]) -> Any:
    """What is at ``path`` in the parsed JSON ``data``, or None when nothing is."""
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _whole_text(value: Any) -> Any:
    """``value`` with each lone surrogate in its strings (keys too) made U+FFFD, as a
    JavaScript client's text encoder does."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, dict):
        return {_whole_text(key): _whole_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_text(item) for item in value]
    return value


def _read_leniently(kind: Any, content: bytes, error: ValidationError, fail_fast: bool) -> Any:
    """``content`` read as ``kind`` with lone surrogates (``"\\ud800"``, which the
    model's parser refuses) made U+FFFD, the nulls it refused left out and values past
    the spec's constraints kept as sent (:mod:`._relaxed`); raises ``error`` (the first
    one, naming the real path) when that is not enough, or at once when none of its
    problems is one of those. ``fail_fast``: read as ``error`` was, lists stopping at
    their first bad item."""
    if error.error_count() > MOST_LENIENT:
        raise error
    problems = error.errors(include_url=False, include_context=False)
    if not any(item["input"] is None or item["type"] in _MENDABLE for item in problems):
        raise error  # it would fail the same way, at the cost of two more reads
    try:
        data = json.loads(content)
        if any(item["type"] == "json_invalid" for item in problems):
            data = _whole_text(data)  # deeper than the parser allows: RecursionError
    except (ValueError, RecursionError):
        raise error from None
    for _ in range(_NULL_ROUNDS):
        generation = _current.generation
        try:
            return _validate_relaxed(kind, json.dumps(data), fail_fast)
        except ValidationError as again:
            if again.error_count() > MOST_LENIENT:
                break
            dropped = _drop_refused_nulls(data, again, fail_fast=fail_fast)
            if not dropped and refresh_lazy_unions() == generation:
                break  # else the lazy union members it met first are relaxed too now
    raise error


def _said(problem: Any) -> str:
    """A problem's message without the value the server sent (it may be a signed URL or a
    secret; the error's ``body`` still holds it)."""
    message = str(problem["msg"])
    sent = problem.get("input")
    if isinstance(sent, str) and sent:
        message = message.replace(repr(sent), "the value sent")
    return message


WEB_PAGE_HINT: Final = (
    "A captive portal, a proxy or a website answered instead of the API: check "
    "CIVITAI_API_URL and the network"
)
BLOB_PAGE_HINT: Final = (
    "A captive portal, a proxy or the page of an expired link answered instead: check "
    "the network and try again"
)


def _text(response: httpx.Response) -> str:
    try:
        return response.text
    except httpx.ResponseNotRead:  # a streamed answer: its page is not read
        return ""


def refuse_partial(response: httpx.Response, what: str = "blob") -> None:
    """Raise :class:`ResponseValidationError` when ``response`` is ``206 Partial Content``:
    no range was asked for, so it holds only part of ``what``, and a file saved from it
    would look complete."""
    if response.status_code == 206:
        raise ResponseValidationError(
            f"the answer holds only part of the {what} (HTTP 206; no range was asked for)",
            hint="A proxy or a cache answered with part of the file: try again",
            status=response.status_code,
            request_id=request_id(response),
            headers=response.headers,
            response=response,
        )


def web_page_error(
    response: httpx.Response, message: str, hint: str = WEB_PAGE_HINT
) -> ResponseValidationError:
    """The error for a 2xx answer that is a web page where the API's answer was expected."""
    text = _text(response)
    return ResponseValidationError(
        message,
        hint=hint,
        body=UnparsedBody(text),
        body_text=text[:BODY_LIMIT],
        status=response.status_code,
        request_id=request_id(response),
        headers=response.headers,
        response=response,
    )


def refuse_web_page(response: httpx.Response, what: str, consequence: str = "") -> None:
    """Raise :class:`ResponseValidationError` when the 2xx answer to ``what`` (a call
    whose body is not read) is a web page: a captive portal or a proxy answered, so the
    API never saw the call. ``consequence`` says what that means for the caller."""
    if is_html(response):
        message = f"the answer to {what} is a web page, not the API's"
        raise web_page_error(response, message + (f": {consequence}" if consequence else ""))


def refuse_page_for_file(response: httpx.Response, what: str = "blob") -> None:
    """Raise :class:`ResponseValidationError` when ``response``, where the bytes of
    ``what`` were expected, says it is an HTML page (any other content type is kept)."""
    if html_type(response):
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        message = f"the answer is a web page ({kind}), not the {what}"
        raise web_page_error(response, message, BLOB_PAGE_HINT)


def _first_problem(kind: Any, content: bytes, error: ValidationError, fail_fast: bool) -> Any:
    """The problem a message names first. Past :data:`MOST_LENIENT` problems (a broken
    or hostile answer) listing them all took seconds (400,000 took 1.9 s), so the body
    is read again (unless ``error`` came from it: ``fail_fast``) by a validator whose
    lists stop at their first bad item: naming the first problem then costs at most one
    read, however many problems there are."""
    if error.error_count() <= MOST_LENIENT:
        return reported_errors(error)[0]
    if not fail_fast:
        try:
            _validate_fail_fast(kind, content)
        except ValidationError as stopped:
            error = stopped  # the same first problem, with few others listed
    if error.error_count() <= MOST_LENIENT:
        return reported_errors(error)[0]
    found = error.errors(include_url=False, include_context=False, include_input=False)
    return next((item for item in found if item["type"] != UNLISTED_TAG), found[0])


def read(kind: Any, content: bytes, what: str, response: httpx.Response | None = None) -> Any:
    """Parse the JSON body ``content`` as ``kind``, or raise :class:`ResponseValidationError`.

    Refused nulls are read leniently (see the module's docstring). The error carries
    ``response`` (status, headers, request id) when it is given, and counts every
    problem, or "at least" those a fail-fast read found (of a large answer, or of one
    whose strict read failed past :data:`UNION_FAILURES`).
    """
    fail_fast = len(content) > LARGE_ANSWER
    try:
        try:
            if fail_fast:
                return _validate_fail_fast(kind, content)
            return _validate(kind, content)
        except ValidationError as error:
            return _read_leniently(kind, content, error, fail_fast)
        except TooManyUnionFailures:
            fail_fast = True  # broken past mending (> MOST_LENIENT problems): counted no further
            return _validate_fail_fast(kind, content)
    except ValidationError as error:
        if response is not None and is_html(response):
            raise web_page_error(response, f"the answer is a web page, not the {what}") from None
        text = content.decode("utf-8", errors="replace")
        first = _first_problem(kind, content, error, fail_fast)
        where = "/".join(map(str, json_location(first["loc"]))) or "the top level"
        count = error.error_count()
        at_least = "at least " if fail_fast else ""
        raise ResponseValidationError(
            f"the {what} in the response does not match the API's schema: "
            f"{at_least}{count} problem(s), first: {_said(first)} at {where}",
            problem_count=count,
            every_problem_counted=not fail_fast,
            body=UnparsedBody(text),
            body_text=text[:BODY_LIMIT],
            status=None if response is None else response.status_code,
            request_id=None if response is None else request_id(response),
            headers=None if response is None else response.headers,
            response=response,
        ) from None

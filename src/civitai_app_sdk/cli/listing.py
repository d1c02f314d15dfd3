"""`civitai-orch workflows` (your workflows) and `user` (another user's, manager only).

Options accept the Node CLI's camelCase spellings too (``--excludeFailed``,
``--ascending``), and both ``--take=5`` and ``--take 5``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs
import click

from civitai_app_sdk import errors as sdk
from civitai_app_sdk.orchestrator._params import WORKFLOWS, list_params

from ._config import load_settings
from ._dates import end_bound, start_bound
from ._exit import CliError, ExitCode
from ._http import get_json
from ._options import api_options, json_option
from ._output import emit_json, entries, note, stdout
from ._render import workflow_table
from ._shell import option

FAILED_STATUSES = frozenset({"failed", "expired", "canceled"})
"""What the API's ``excludeFailed`` leaves out."""
STATUSES = (
    *("unassigned", "preparing", "scheduled", "processing"),
    *("succeeded", "failed", "expired", "canceled"),
)


@attrs.frozen
class Filters:
    """The options `workflows` and `user` share (see :func:`_filters`)."""

    tags: tuple[str, ...]
    query: str | None
    exclude_failed: bool
    oldest: bool
    take: int
    cursor: str | None


def _filters(func: Callable[..., None]) -> Callable[..., None]:
    """Options shared by `workflows` and `user`, handed to the command as ``filters``."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        shared = {field.name: kwargs.pop(field.name) for field in attrs.fields(Filters)}
        func(*args, filters=Filters(**shared), **kwargs)

    for decorator in reversed(
        [
            click.option(
                "--tag",
                "tags",
                multiple=True,
                help="Only workflows with this tag (repeat: all must match).",
            ),
            click.option("--query", help="Match text in workflow metadata."),
            click.option(
                "--exclude-failed",
                "--excludeFailed",
                "exclude_failed",
                is_flag=True,
                help="Leave out failed, expired and canceled workflows.",
            ),
            click.option("--oldest", "--ascending", "oldest", is_flag=True, help="Oldest first."),
            click.option(
                "--take",
                type=click.IntRange(1, 1000),
                default=20,
                show_default=True,
                help="How many workflows to show.",
            ),
            click.option("--cursor", help="Continue from the cursor a previous page printed."),
        ]
    ):
        command = decorator(command)
    return command


def _workflows_in(body: object) -> list[dict[str, Any]]:
    """The workflow objects in a page (``{"items": [...]}``) or a bare list; whatever
    else a broken or hostile server sent there is left out, not a traceback."""
    listed = body.get("items") if isinstance(body, Mapping) else body
    return [dict(item) for item in entries(listed) if isinstance(item, Mapping)]


def _next_hint(ctx: click.Context, cursor: str) -> None:
    """Print the command for the next page: the same options with the new cursor."""
    words = ["civitai-orch", ctx.info_name or "workflows"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if (
            not isinstance(param, click.Option)
            or param.name in {"cursor", "token", "as_json"}
            or value in (None, False, (), param.default)
        ):
            continue
        flag = max(param.opts, key=len) if param.name == "oldest" else param.opts[0]
        if param.is_flag:
            words.append(flag)
        else:
            for item in value if isinstance(value, tuple) else [value]:
                words.append(option(flag, str(item)))
    words.append(option("--cursor", cursor))
    note("Next page: " + " ".join(words))


@click.command()
@_filters
@click.option(
    "--from",
    "from_date",
    callback=start_bound,
    metavar="DATE",
    help="Created on or after (2024-01-20, or a datetime; UTC unless a zone is given).",
)
@click.option(
    "--to",
    "to_date",
    callback=end_bound,
    metavar="DATE",
    help="Created on or before (a date includes that whole day, UTC).",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only these statuses (filtered here; repeat for several).",
)
@click.option("--nsfw", is_flag=True, help="Include URLs of mature outputs (hidden by default).")
@api_options
@json_option
def workflows(
    filters: Filters,
    from_date: str | None,
    to_date: str | None,
    statuses: tuple[str, ...],
    nsfw: bool,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """List your workflows, newest first, with filters and pagination.

    The API has no status filter: --status filters the fetched page here (and
    a --status list without failed, expired or canceled also asks the API to leave
    those out).
    """
    if from_date and to_date and from_date > to_date:  # both ISO UTC, milliseconds: comparable
        raise click.UsageError(
            f"--from {from_date} is after --to {to_date}, so no workflow can match: swap them?"
        )
    exclude_failed = filters.exclude_failed or bool(statuses and not {*statuses} & FAILED_STATUSES)
    params = list_params(
        tags=list(filters.tags) or None,
        query=filters.query,
        from_date=from_date,
        to_date=to_date,
        ascending=filters.oldest or None,
        exclude_failed=exclude_failed or None,
        hide_mature_content=False if nsfw else None,
        take=filters.take,
        cursor=filters.cursor,
    )
    try:
        page = get_json(load_settings(token=token, api_url=api_url), WORKFLOWS, params)
    except sdk.ResponseTooLargeError as exc:
        raise CliError(
            f"the page of up to {filters.take} workflows was larger than {exc.limit:,} "
            "bytes, so it was not read: ask for fewer with --take (the cursor printed "
            "with each page leads to the next)",
            status=exc.status,
        ) from None
    if not isinstance(page, dict):
        raise sdk.ResponseValidationError(f"GET {WORKFLOWS} did not return a page of workflows")
    fetched = _workflows_in(page)
    items = [w for w in fetched if not statuses or w.get("status") in statuses]
    cursor = page.get("next")
    next_cursor = cursor if isinstance(cursor, str) and cursor else None  # text, or no page
    if as_json:
        emit_json({"items": items, "next": next_cursor})
        return
    if not items and fetched:  # the status filter left none of this page
        wanted = " or ".join(statuses)
        count = f"{len(fetched)} workflow{'s' if len(fetched) != 1 else ''}"
        shown = f"None of the {count} on this page is {wanted}."
        stdout().print(shown, markup=False)
    elif not items:
        stdout().print("No workflows found.")
    else:
        workflow_table(items)
    if next_cursor and page.get("items"):
        _next_hint(click.get_current_context(), next_cursor)


@click.command()
@click.argument("user_id")
@_filters
@api_options
@json_option
def user(
    user_id: str,
    filters: Filters,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """List USER_ID's workflows through the v1 manager endpoint.

    This needs a token with the Manager role; ordinary API keys and OAuth tokens
    get "permission denied". For your own workflows use `workflows`.
    """
    params = [("UserId", user_id), ("Take", str(filters.take))]
    params += [("Tags", t) for t in filters.tags]
    for name, value in (("Query", filters.query), ("Cursor", filters.cursor)):
        if value:
            params.append((name, value))
    if filters.exclude_failed:
        params.append(("ExcludeFailed", "true"))
    if filters.oldest:
        params.append(("Inverse", "true"))
    try:
        body = get_json(
            load_settings(token=token, api_url=api_url), "/v1/manager/workflows", params
        )
    except (sdk.UnauthorizedError, sdk.ForbiddenError) as exc:
        code = ExitCode.AUTH if isinstance(exc, sdk.UnauthorizedError) else ExitCode.FORBIDDEN
        raise CliError(
            f"the manager endpoint refused the token (HTTP {exc.status}): `user` needs a valid "
            "Manager-role token; use `civitai-orch workflows` for your own workflows",
            code,
        ) from None
    items = _workflows_in(body)
    if as_json:
        emit_json({"items": items})
        return
    if not items:
        stdout().print(f"No workflows found for user {quote(user_id)}.")
        return
    workflow_table(items)

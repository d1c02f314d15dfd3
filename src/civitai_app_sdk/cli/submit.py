"""`civitai-orch estimate FILE|--prompt TEXT`, `submit FILE [--wait] [--yes]` and `cancel ID`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import click

from civitai_app_sdk.errors import NotFoundError, OrchestratorError, ResponseValidationError
from civitai_app_sdk.orchestrator._params import EXTERNAL_ID

from ._confirm import ask_first
from ._exit import CliError, ExitCode
from ._json_input import read_json
from ._options import api_options, json_option
from ._output import emit_json, note, printable, stdout, to_data
from ._paid import paid_output
from ._render import cost_text, estimate_summary
from ._session import open_client
from ._shell import command, option
from .inspect import (
    WAIT_HELP,
    finish,
    follow,
    follow_command,
    still_running,
    wait_timeout_option,
)

if TYPE_CHECKING:
    from civitai_app_sdk_generated.params import WorkflowTemplateParam

FILE_ARG = click.argument("file", type=click.File("r", encoding="utf-8"))


def _checked_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--external-id`` as the API takes it, refused before anything is sent: one
    refused after the estimate and the confirmation, or an empty one quietly replaced
    by a fresh key (a retry charged again), would not be."""
    if value is None or EXTERNAL_ID.fullmatch(value):
        return value
    raise click.BadParameter(
        f"{printable(repr(value))} is not a key the API takes: use 1-128 characters of "
        "A-Z, a-z, 0-9, '_' and '-' (the same key as the first try, to retry it)",
        ctx,
        param,
    )


def _body_key(body: WorkflowTemplateParam) -> str | None:
    key = body.get("externalId")
    return key if isinstance(key, str) and key else None


def _body(file: Any) -> WorkflowTemplateParam:
    """The workflow in ``file``: any JSON object (the client validates it before sending)."""
    body = read_json(file)
    if not isinstance(body, dict):
        raise CliError(f"{file.name} must hold one workflow object", ExitCode.USAGE)
    _check_step_types(body, file.name)
    return cast("WorkflowTemplateParam", body)


def _check_step_types(body: dict[str, Any], name: str) -> None:
    """Refuse an unknown step ``$type`` with the valid ones and the closest match."""
    import difflib

    from civitai_app_sdk_generated.steps import WORKFLOW_STEP_TYPES

    steps = body.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        kind = step.get("$type") if isinstance(step, dict) else None
        if not isinstance(kind, str) or kind in WORKFLOW_STEP_TYPES:
            continue
        close = difflib.get_close_matches(kind, list(WORKFLOW_STEP_TYPES), n=1, cutoff=0.6)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise CliError(
            f"{name}: /steps/{index}/$type {kind!r} is not a step type; {guess}"
            f"valid types: {', '.join(sorted(WORKFLOW_STEP_TYPES))}",
            ExitCode.USAGE,
        )


def _estimate_body(file: Any, prompt: str | None) -> WorkflowTemplateParam:
    """The body from FILE, or a default text-to-image body for ``--prompt`` (not both)."""
    if (file is None) == (prompt is None):
        raise CliError("give a workflow FILE or --prompt TEXT (one of them)", ExitCode.USAGE)
    if prompt is None:
        return _body(file)
    from civitai_app_sdk.orchestrator import build_text_to_image_body

    return build_text_to_image_body({"prompt": prompt})


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), required=False)
@click.option(
    "--prompt",
    metavar="TEXT",
    help="Price a default text-to-image workflow for TEXT instead of a FILE.",
)
@api_options
@json_option
def estimate(
    file: Any, prompt: str | None, token: str | None, api_url: str | None, as_json: bool
) -> None:
    """Price the workflow in FILE ('-' for stdin), or one image for --prompt.

    Nothing runs, nothing is charged.
    """
    data = to_data(open_client(token, api_url).estimate(_estimate_body(file, prompt)))
    if as_json:
        emit_json(data)
    else:
        estimate_summary(data)


def _submit_failed(exc: OrchestratorError | None, key: str) -> CliError:
    """The error for a failed or interrupted submit, with the key that makes a retry safe.

    Without an answer (network, timeout, 5xx, Ctrl-C) the workflow may exist and be
    charged; resubmitting with the same ``--external-id`` finds it instead of paying again.
    """
    from ._errors import orchestrator_error

    if exc is None:
        error = CliError("interrupted while submitting", ExitCode.INTERRUPTED)
    else:
        error = orchestrator_error(exc)
        key = exc.external_id or key
    unsure = (
        exc is None
        or isinstance(exc, ResponseValidationError)  # answered: created, its answer unread
        or exc.status is None
        or exc.status >= 500
        or exc.status in {408, 429}
    )
    lead = "the workflow may have been created: " if unsure else ""
    return error.reworded(
        f"{error.format_message()}; {lead}retry with `{option('--external-id', key)}` "
        "(the same key never runs or charges twice)",
        extra={**error.extra, "externalId": key},
    )


@click.command()
@FILE_ARG
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@wait_timeout_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask before spending Buzz.")
@click.option(
    "--external-id",
    metavar="KEY",
    callback=_checked_key,
    help="Idempotency key: resubmitting the same key never charges twice.",
)
@api_options
@json_option
def submit(
    file: Any,
    wait: bool,
    timeout: float,
    yes: bool,
    external_id: str | None,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """Submit the workflow in FILE ('-' for stdin). Spends Buzz.

    The cost is estimated first and shown; you are asked to confirm unless --yes.
    """
    body = _body(file)
    in_body = _body_key(body)
    if external_id and in_body and external_id != in_body:
        raise CliError(
            f"{file.name} has externalId {in_body!r} but --external-id {external_id!r} "
            "was given: keep one of them (or the same key in both); nothing was sent",
            ExitCode.USAGE,
        )
    client = open_client(token, api_url)
    priced = to_data(client.estimate(body))
    if not as_json:
        estimate_summary(priced)
    transactions = priced.get("transactions") or {}
    if isinstance(transactions, dict) and transactions.get("insufficientBuzz"):
        raise CliError(
            f"not enough Buzz for this workflow ({cost_text(priced)}); nothing was submitted: "
            "top up at https://civitai.com/purchase/buzz",
            ExitCode.INSUFFICIENT_BUZZ,
        )
    ask_first(
        yes,
        question=f"Submit and spend {cost_text(priced)}?",
        stakes=f"submitting spends Buzz ({cost_text(priced)})",
        declined="Not submitted; nothing was spent.",
    )
    from civitai_app_sdk.orchestrator.calls import new_external_id

    key = external_id or in_body or new_external_id()
    try:
        created = to_data(client.submit(body, external_id=key, idempotent=True))
    except OrchestratorError as exc:
        raise _submit_failed(exc, key) from None
    except KeyboardInterrupt:
        raise _submit_failed(None, key) from None
    workflow_id = str(created.get("id") or "")
    if not workflow_id:
        raise _no_id(key)
    state = created.get("status")
    known = state if isinstance(state, str) else None
    paid = {"id": workflow_id, "externalId": key}
    try:  # paid for: a Ctrl-C or a closed stdout from here on must still say which one
        with paid_output(_bought(workflow_id, key), extra=paid):
            _report_submitted(created, workflow_id, wait=wait, as_json=as_json)
    except KeyboardInterrupt:
        raise still_running(workflow_id, known, "interrupted", ExitCode.INTERRUPTED) from None
    if wait:
        try:
            final = follow(client, workflow_id, timeout, status=known)
        except NotFoundError as exc:
            raise _gone(exc, workflow_id, key) from None
        status = printable(str(final.get("status")))
        check = command("workflow", workflow_id)
        ended = (
            f"workflow {workflow_id} ended {status} (see it with `{check}`; its retry key: "
            f"`{option('--external-id', key)}`)"
        )
        with paid_output(ended, extra={**paid, "status": final.get("status")}):
            finish(final, as_json)


def _no_id(key: str) -> CliError:
    """The error for a submit the API accepted with an answer that names no workflow:
    it may exist and spend Buzz, and only its key finds it again."""
    return CliError(
        "the API accepted the submit, but its answer named no workflow id: the workflow "
        "may exist and spend Buzz; find it with `civitai-orch workflows`, and resubmit "
        f"only with `{option('--external-id', key)}` (the same key never charges twice)",
        extra={"id": None, "externalId": key},
    )


def _gone(exc: NotFoundError, workflow_id: str, key: str) -> CliError:
    """The error for a workflow just submitted that the API no longer finds while
    ``--wait`` follows it (an ephemeral one once finished, a replica behind)."""
    from ._errors import orchestrator_error

    error = orchestrator_error(exc)
    return error.reworded(
        f"not found while waiting: workflow {workflow_id} was submitted and spends Buzz, "
        "but reading it back found nothing (an ephemeral workflow is gone once it "
        "finishes; its results went to its callbacks); look for it with "
        f"`civitai-orch workflows`, and resubmit only with `{option('--external-id', key)}`",
        extra={**error.extra, "id": workflow_id, "externalId": key},
    )


def _bought(workflow_id: str, key: str) -> str:
    """What a submit that has been charged bought, and how to find it again."""
    return (
        f"workflow {workflow_id} was submitted and spends Buzz; follow it with "
        f"`{follow_command(workflow_id)}` (its retry key: "
        f"`{option('--external-id', key)}` finds it rather than paying again)"
    )


def _report_submitted(
    created: dict[str, Any], workflow_id: str, *, wait: bool, as_json: bool
) -> None:
    """Say the workflow was submitted (and, without --wait, print it)."""
    shown = printable(workflow_id)  # the server's words: no markup, no terminal escapes
    if wait:
        note(f"Submitted {shown}; waiting for it to finish…")
        return
    if as_json:
        emit_json(created)
        return
    from rich.text import Text

    status = printable(str(created.get("status")))
    stdout().print(Text.assemble("Submitted workflow ", (shown, "bold"), f" ({status})"))
    note(f"Follow it with: {follow_command(workflow_id)}")


LOOK_FIRST = 5.0
"""Seconds the read before a cancel may take: an API slow to answer (when people cancel)
delays the cancel by no more."""


def _ended_status(client: Any, workflow_id: str) -> str | None:
    """The final status (other than canceled) of a workflow that has ended, else None.

    The API accepts a cancel of a finished workflow and does nothing. A read that fails
    is None, so it never stands in the way of stopping a workflow that spends Buzz; nor
    does a slow one for long: it is tried once, for at most :data:`LOOK_FIRST` seconds.
    """
    from civitai_app_sdk.errors import CivitaiError
    from civitai_app_sdk.orchestrator import is_terminal

    try:
        once = client.with_options(max_retries=0)
        status = to_data(once.get(workflow_id, timeout=LOOK_FIRST)).get("status")
    except CivitaiError:
        return None
    if status == "canceled" or not is_terminal(status):
        return None
    return str(status)


@click.command()
@click.argument("workflow_id")
@api_options
@json_option
def cancel(workflow_id: str, token: str | None, api_url: str | None, as_json: bool) -> None:
    """Cancel WORKFLOW_ID; work that has not started is refunded.

    A workflow that has already ended is reported as it is; nothing is sent to cancel it.
    """
    client = open_client(token, api_url)
    ended = _ended_status(client, workflow_id)
    if ended is not None:
        if as_json:
            emit_json({"id": workflow_id, "canceled": False, "status": ended})
        else:
            stdout().print(
                f"{printable(workflow_id)} had already ended {printable(ended)}: there was "
                "nothing to cancel.",
                markup=False,
            )
        return
    try:
        client.cancel(workflow_id)
    except ResponseValidationError as exc:  # a web page answered: the API may not have seen it
        check = command("workflow", workflow_id)
        raise CliError(
            "the cancel may not have happened: the answer was a web page, not the API's "
            "(check CIVITAI_API_URL, or a captive portal or proxy in between); the workflow "
            f"may still be running and spending Buzz: check it with `{check}` and cancel again",
            status=exc.status,
            request_id=exc.request_id,
            extra={"id": workflow_id, "canceled": False},
        ) from None
    if as_json:
        emit_json({"id": workflow_id, "canceled": True})
    else:
        stdout().print(f"Canceled {printable(workflow_id)}.", markup=False)

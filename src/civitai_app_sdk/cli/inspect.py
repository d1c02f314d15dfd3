"""`civitai-orch workflow ID [--wait]` and `step ID NAME`."""

from __future__ import annotations

from typing import Any

import click

from civitai_app_sdk import errors as sdk
from civitai_app_sdk.orchestrator._params import WORKFLOWS, segment

from ._config import load_settings
from ._exit import CliError, ExitCode
from ._http import get_json
from ._options import api_options, finite, json_option
from ._output import emit_json, note, to_data
from ._progress import bar, workflow_updater
from ._render import failure_reasons, step_summary, workflow_summary
from ._session import open_client
from ._shell import command

WAIT_HELP = (
    "Follow the workflow until it finishes (exit 10 if it fails, expires or is canceled; "
    "1 if --timeout ends the wait first)."
)


def wait_timeout_option(func: Any) -> Any:
    """``--timeout``: how long ``--wait`` follows a workflow."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=1),
        callback=finite,
        default=600,
        show_default=True,
        help="Seconds --wait follows the workflow before giving up.",
    )(func)


def finish(workflow: dict[str, Any], as_json: bool) -> None:
    """Print a finished workflow; a failed, expired or canceled one exits with 10.

    The error message names each step that did not succeed and the server's reason.
    """
    if as_json:
        emit_json(workflow)
    else:
        workflow_summary(workflow)
    status = workflow.get("status")
    if status != "succeeded":
        reasons = "; ".join(failure_reasons(workflow)) or "no step reported a reason"
        raise CliError(
            f"workflow {workflow.get('id')} ended {status}: {reasons}",
            ExitCode.WORKFLOW_FAILED,
            extra={"id": workflow.get("id"), "status": status},
        )


def follow_command(workflow_id: str) -> str:
    """The command that follows ``workflow_id`` to its end, quoted for a shell: an id (a
    server's, after a submit) never runs as commands of its own when pasted."""
    return command("workflow", workflow_id, options=["--wait"])


def still_running(
    workflow_id: str,
    status: str | None,
    what: str,
    code: ExitCode,
    *,
    cause: CliError | None = None,
) -> CliError:
    """The error for a ``--wait`` that ends before the workflow: its id and how to stop it.

    The workflow keeps running, and spending, on the server; the ``--json`` document
    carries its ``id`` and ``status`` so a script keeps what it paid for. ``cause`` (an
    API error that ended the wait) lends its HTTP status, request id and field errors.
    """
    state = status or "unknown"
    cancel = command("cancel", workflow_id)
    return (cause or CliError(what, code)).reworded(
        f"{what}: workflow {workflow_id} is still {state} on the server and keeps spending "
        f"Buzz; follow it with `{follow_command(workflow_id)}` or stop it with `{cancel}`",
        code,
        extra={"id": workflow_id, "status": state, "cancel": cancel},
    )


def follow(
    client: Any, workflow_id: str, timeout: float, *, status: str | None = None
) -> dict[str, Any]:
    """Poll a workflow to its end with a progress bar on stderr.

    Ctrl-C, the end of ``timeout`` or a server that stops answering stops following
    (not the workflow) and says how to follow or cancel it, with the last status seen
    (``status``: the one already known, such as the submit's answer).
    """
    from civitai_app_sdk.errors import PollTimeoutError

    seen: dict[str, str | None] = {"status": status}
    try:  # around the bar too: Ctrl-C while it starts (rich loading) keeps the id
        with bar(f"{workflow_id}: waiting") as status_bar:
            show = workflow_updater(status_bar)

            def on_update(snapshot: object) -> None:
                seen["status"] = to_data(snapshot).get("status")
                show(snapshot)

            final = client.poll(workflow_id, timeout=timeout, on_update=on_update)
    except KeyboardInterrupt:
        raise still_running(
            workflow_id, seen["status"], "interrupted", ExitCode.INTERRUPTED
        ) from None
    except PollTimeoutError as exc:
        if exc.last is None:  # not one answer before the deadline: a hanging server
            raise still_running(
                workflow_id, seen["status"], "the request timed out", ExitCode.NETWORK
            ) from None
        raise still_running(
            workflow_id, seen["status"], f"the wait ended after {timeout:g} s", ExitCode.ERROR
        ) from None
    except sdk.TransportError as exc:  # a hanging or lost server: the workflow lives on
        what = "the request timed out" if isinstance(exc, sdk.RequestTimeoutError) else None
        raise still_running(
            workflow_id, seen["status"], what or "the API stopped answering", ExitCode.NETWORK
        ) from None
    except sdk.NotFoundError:
        raise
    except sdk.OrchestratorError as exc:  # a 5xx, an expired token…: it lives on too
        from ._errors import orchestrator_error

        error = orchestrator_error(exc)
        raise still_running(
            workflow_id, seen["status"], error.format_message(), error.code, cause=error
        ) from None
    data: dict[str, Any] = to_data(final)
    return data


@click.command()
@click.argument("workflow_id")
@click.option("--wait", is_flag=True, help=WAIT_HELP)
@wait_timeout_option
@api_options
@json_option
def workflow(
    workflow_id: str,
    wait: bool,
    timeout: float,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """Show a workflow: status, cost, steps with their types, prompts and outputs."""
    if wait:
        finish(follow(open_client(token, api_url), workflow_id, timeout), as_json)
        return
    path = f"{WORKFLOWS}/{segment(workflow_id, 'workflow_id')}"
    data = get_json(load_settings(token=token, api_url=api_url), path, ())
    if not isinstance(data, dict):
        raise sdk.ResponseValidationError(f"GET {path} did not return a workflow")
    if as_json:
        emit_json(data)
    else:
        from civitai_app_sdk.orchestrator import is_terminal

        workflow_summary(data)
        if not is_terminal(data):
            note(f"Still running: `{follow_command(workflow_id)}` follows it.")


@click.command()
@click.argument("workflow_id")
@click.argument("step_name")
@api_options
@json_option
def step(
    workflow_id: str, step_name: str, token: str | None, api_url: str | None, as_json: bool
) -> None:
    """Show STEP_NAME of WORKFLOW_ID ($0, $1… when the submit gave no names)."""
    data = to_data(open_client(token, api_url).get_step(workflow_id, step_name))
    if as_json:
        emit_json(data)
    else:
        step_summary(data)

"""`civitai-orch workflow ID [--wait]` and `step ID NAME`."""

from __future__ import annotations

from typing import Any

import click

from ._exit import CliError, ExitCode
from ._options import api_options, json_option
from ._output import emit_json, note, to_data
from ._progress import bar, workflow_updater
from ._render import step_summary, workflow_summary
from ._session import open_client

WAIT_HELP = "Follow the workflow until it finishes (exit 10 unless it succeeds)."


def wait_timeout_option(func: Any) -> Any:
    """``--timeout``: how long ``--wait`` follows a workflow."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=1),
        default=600,
        show_default=True,
        help="Seconds --wait follows the workflow before giving up.",
    )(func)


def finish(workflow: dict[str, Any], as_json: bool) -> None:
    """Print a finished workflow; a failed, expired or canceled one exits with 10."""
    if as_json:
        emit_json(workflow)
    else:
        workflow_summary(workflow)
    status = workflow.get("status")
    if status != "succeeded":
        raise CliError(
            f"workflow {workflow.get('id')} ended {status}: see the step errors above "
            "(or in --json output)",
            ExitCode.WORKFLOW_FAILED,
        )


def follow(client: Any, workflow_id: str, timeout: float) -> dict[str, Any]:
    """Poll a workflow to its end with a progress bar on stderr."""
    with bar(f"{workflow_id}: waiting") as status_bar:
        final = client.poll(workflow_id, timeout=timeout, on_update=workflow_updater(status_bar))
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
    client = open_client(token, api_url)
    if wait:
        finish(follow(client, workflow_id, timeout), as_json)
        return
    data = to_data(client.get(workflow_id))
    if as_json:
        emit_json(data)
    else:
        from civitai_app_sdk.orchestrator import is_terminal

        workflow_summary(data)
        if not is_terminal(data):
            note(f"Still running: `civitai-orch workflow {workflow_id} --wait` follows it.")


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

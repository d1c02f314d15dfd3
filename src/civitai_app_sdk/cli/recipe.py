"""`civitai-orch recipe NAME [INPUT.json] [--estimate]`: run one recipe (a one-step workflow)."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from civitai_app_sdk.errors import OrchestratorError
from civitai_app_sdk.orchestrator import OPERATIONS
from civitai_app_sdk.orchestrator._charges import may_have_run

from ._confirm import ask_first
from ._exit import CliError, ExitCode
from ._json_input import read_json
from ._options import api_options, json_option
from ._output import emit_json
from ._paid import paid_output
from ._session import open_client

_PREFIX = "recipes."


def _recipe_names() -> dict[str, str]:
    """Every accepted recipe name (the API's and the SDK's) -> the SDK's method name."""
    from civitai_app_sdk_generated import OPERATION_SPECS

    names: dict[str, str] = {}
    for op_id, attribute in OPERATIONS.items():
        if attribute.startswith(_PREFIX):
            method = attribute.removeprefix(_PREFIX)
            names[method] = method
            names[OPERATION_SPECS[op_id].path.rsplit("/", 1)[-1]] = method
    return names


def _run_failed(exc: OrchestratorError | KeyboardInterrupt) -> CliError:
    """The error for a recipe run that got no clear answer: it may have run and been paid.

    A recipe has no idempotency key, so the message warns before a retry that could
    charge again (a lost or unreadable answer, a timeout, 5xx or Ctrl-C leaves it
    unknown; a connection that never opened cannot have run it).
    """
    from ._errors import orchestrator_error

    if isinstance(exc, KeyboardInterrupt):
        error = CliError("interrupted while running the recipe", ExitCode.INTERRUPTED)
        unsure = True
    else:
        error = orchestrator_error(exc)
        unsure = may_have_run(exc) or exc.status == 408
    if not unsure:
        return error
    return error.reworded(
        f"{error.format_message()}; the recipe may have run and been charged: look for it "
        "with `civitai-orch workflows` before running it again (a recipe has no "
        "idempotency key)"
    )


@click.command()
@click.argument("name")
@click.argument(
    "input_file", metavar="[INPUT.json]", type=click.File("r", encoding="utf-8"), default="-"
)
@click.option(
    "--estimate",
    is_flag=True,
    help="A dry run (whatif): nothing runs or is paid. The API's answer has no price: "
    "`civitai-orch estimate` prices the same step as a workflow.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before spending Buzz.")
@api_options
@json_option
def recipe(
    name: str,
    input_file: Any,
    estimate: bool,
    yes: bool,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """Run the recipe NAME (textToImage or text_to_image …) on INPUT.json ('-': stdin).

    A recipe spends Buzz and is never retried automatically (it has no idempotency key);
    you are asked first unless --yes. Prints the step's output as JSON (with or without
    --json).
    """
    names = _recipe_names()
    method = names.get(name)
    if method is None:
        known = ", ".join(sorted(n for n in names if n == names[n]))
        raise CliError(f"no recipe called {name!r}; recipes: {known}", ExitCode.USAGE)
    body = read_json(input_file)
    ask_first(
        yes or estimate,
        question=f"Run {name} and spend Buzz?",
        stakes="running a recipe spends Buzz (--estimate checks it without running)",
        declined="Not run; nothing was spent.",
    )
    client = open_client(token, api_url)
    try:
        output = getattr(client.recipes, method)(body, whatif=True if estimate else None)
    except (OrchestratorError, KeyboardInterrupt) as exc:
        if estimate:
            raise
        raise _run_failed(exc) from None
    ran = (
        "the recipe ran and spends Buzz; look for it with `civitai-orch workflows` rather "
        "than running it again (a recipe has no idempotency key)"
    )
    with paid_output(ran) if not estimate else contextlib.nullcontext():
        emit_json(output)  # the step's output is JSON data for people and scripts alike

"""`civitai-orch`: the command-line interface, with subcommands loaded on demand."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any, Final

import click

# Subcommand name -> "module:attribute" of its click command, imported only when used,
# so `civitai-orch --help` stays fast.
COMMANDS: Final[dict[str, str]] = {
    "test": "civitai_app_sdk.cli.connection:test",
    "user": "civitai_app_sdk.cli.listing:user",
    "workflows": "civitai_app_sdk.cli.listing:workflows",
    "workflow": "civitai_app_sdk.cli.inspect:workflow",
    "job": "civitai_app_sdk.cli.job:job",
    "step": "civitai_app_sdk.cli.inspect:step",
    "results": "civitai_app_sdk.cli.results:results",
    "blob": "civitai_app_sdk.cli.results:blob",
    "estimate": "civitai_app_sdk.cli.submit:estimate",
    "submit": "civitai_app_sdk.cli.submit:submit",
    "cancel": "civitai_app_sdk.cli.submit:cancel",
    "scopes": "civitai_app_sdk.cli.scopes_cmd:scopes",
    "login": "civitai_app_sdk.cli.auth:login",
    "logout": "civitai_app_sdk.cli.auth:logout",
    "block": "civitai_app_sdk.cli.block:block",
    "serve-local": "civitai_app_sdk.cli.serve_local:serve_local",
    "upload": "civitai_app_sdk.cli.upload:upload",
    "delete": "civitai_app_sdk.cli.edit:delete",
    "tags": "civitai_app_sdk.cli.edit:tags",
    "recipe": "civitai_app_sdk.cli.recipe:recipe",
}

JSON_REQUESTED: Final = "civitai_orch.json"
"""Context meta key: the command line asked for ``--json``."""

# Other names the Node CLI accepts; they work but are not listed.
ALIASES: Final[dict[str, str]] = {"user-workflows": "user"}

# One line per command for the root `--help`, so listing them imports nothing.
SHORT_HELP: Final[dict[str, str]] = {
    "test": "Check the API URL and token with one request.",
    "user": "List another user's workflows (manager tokens only).",
    "workflows": "List and search your workflows, newest first.",
    "workflow": "Show one workflow; --wait follows it to the end.",
    "job": "Show a v1 job with its scan results.",
    "step": "Show one step of a workflow.",
    "results": "List a workflow's outputs; --download saves them.",
    "blob": "Look up a blob; --download saves it.",
    "estimate": "Price a workflow file (or --prompt TEXT) without running it.",
    "submit": "Submit a workflow file (asks before spending Buzz).",
    "cancel": "Cancel a running workflow.",
    "scopes": "Translate token scopes between bitmask and names.",
    "login": "Sign in (device flow) or store an API key.",
    "logout": "Forget the stored token.",
    "block": "App Block tools (validate a manifest).",
    "serve-local": "Run the local stand-in orchestrator.",
    "upload": "Upload a file as a blob; prints its id.",
    "delete": "Delete a workflow (asks first unless --yes).",
    "tags": "Show, add, remove or clear a workflow's tags.",
    "recipe": "Run one recipe on an input file (--estimate: a dry run, no charge).",
}

EXIT_CODES_HELP: Final = """\b
Exit codes:
  0   success
  1   other API or local error
  2   usage error (bad option or argument)
  3   no token, or the token is invalid or expired
  4   permission denied (token scope)
  5   insufficient Buzz
  6   not found
  7   rate limited
  8   server error
  9   network error or timeout
  10  the workflow failed, expired or was canceled
  11  some downloads failed
  12  you declined the prompt; nothing was submitted, run or deleted
  13  Buzz was spent but stdout was closed before the answer was printed: the
      workflow id and retry key are on stderr
  130 interrupted (Ctrl-C or SIGTERM); nothing half-written is left behind"""


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when first needed.

    ``short_help`` gives each lazy command its one-line summary for the group's help,
    so ``--help`` lists every command without importing any of them. ``aliases`` maps
    unlisted extra names to commands. Errors raised by the SDK inside a command become
    one-line messages with their exit code.
    """

    def __init__(
        self,
        *args: Any,
        lazy: dict[str, str],
        short_help: dict[str, str] | None = None,
        aliases: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Register the lazy commands (name -> ``module:attribute``) and their summaries."""
        super().__init__(*args, **kwargs)
        self._lazy = lazy
        self._short_help = short_help or {}
        self._aliases = aliases or {}

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; a stdout whose encoding lacks characters escapes them
        (:func:`._output.fit_stdout`) instead of failing the command."""
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        if not encoding.lower().startswith("utf"):  # the check loads nothing for UTF-8
            from ._output import fit_stdout

            fit_stdout()
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every listed command name, sorted (aliases are left out)."""
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name`` (or an alias of it), imported on first use."""
        cmd_name = self._aliases.get(cmd_name, cmd_name)
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their one-line help, importing none of the lazy ones."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            text = self._short_help.get(name)
            if text is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                text = command.get_short_help_str(limit=formatter.width)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Note whether ``--json`` was asked for, so failures can print a JSON document."""
        options = args[: args.index("--")] if "--" in args else args
        ctx.meta[JSON_REQUESTED] = "--json" in options
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as failure:  # `civitai-orch --json cmd`, `--bad cmd`
            self._report(ctx, failure)
            raise

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the command; a mistyped name suggests the closest ones."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            known = [*self.list_commands(ctx), *self._aliases]
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise click.UsageError(
                f"no such command {name!r}{hint} (see `civitai-orch --help`)", ctx
            )
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; SDK and network failures exit with a one-line message.

        With ``--json``, a failure also prints ``{"error": {...}}`` on stdout, unless the
        command already printed its document (a failed workflow, a partial download).
        """
        try:
            try:
                return super().invoke(ctx)
            except (KeyboardInterrupt, click.Abort):
                from ._exit import CliError, ExitCode

                raise CliError("interrupted", ExitCode.INTERRUPTED) from None
            except click.ClickException:
                raise
            except click.exceptions.Exit:
                raise
            except Exception as exc:
                from ._errors import to_click_error

                error = to_click_error(exc)
                if error is None:
                    raise
                raise error from None
        except click.ClickException as failure:
            self._report(ctx, failure)
            raise

    @staticmethod
    def _report(ctx: click.Context, failure: click.ClickException) -> None:
        """Print the ``--json`` document of ``failure`` (unless the command printed its
        own), and escape its message for the terminal."""
        from ._output import EMITTED, terminal_safe

        if ctx.meta.get(JSON_REQUESTED) and not ctx.meta.get(EMITTED):
            from ._exit import usage_document
            from ._output import emit_json

            emit_json(usage_document(failure))
        # click's own errors quote a file name as given; click declares ``message``
        # Final, yet shows whatever it holds when the exception reaches it
        failure.message = terminal_safe(failure.message)  # type: ignore[misc]


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    short_help=SHORT_HELP,
    aliases=ALIASES,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="civitai-app-sdk")
@click.option("--verbose", "-v", is_flag=True, help="Log every request (redacted) to stderr.")
def main(verbose: bool) -> None:
    """Work with the Civitai Orchestration API, OAuth and App Blocks from a terminal.

    Settings, highest precedence first: flags (--token, --api-url), the environment
    (CIVITAI_API_TOKEN, CIVITAI_API_URL, CIVITAI_MAX_RETRIES), ./.env, then the config
    directory (config.json, and the login stored by `login`). A CIVITAI_API_URL from
    ./.env is used only with the token from that same file; a stored login is used only
    with the API it was made for. CIVITAI_MAX_RETRIES sets how often safe requests are
    retried on 429/502-504 (default 3). Add --json to a command (all but serve-local and help)
    for one JSON document on stdout, failures included. --verbose (or CIVITAI_LOG=debug)
    logs each request.
    """
    if verbose:
        from civitai_app_sdk._logging import enable_logging

        enable_logging()


@main.command("help", short_help="Show this help, or a command's help.")
@click.argument("command", required=False)
@click.pass_context
def help_command(ctx: click.Context, command: str | None) -> None:
    """Show the help of COMMAND, or of civitai-orch itself (as the Node CLI's `help`)."""
    parent = ctx.parent
    assert parent is not None
    if command is None:
        click.echo(parent.get_help())
        return
    found = main.get_command(parent, command)
    if found is None:
        raise click.UsageError(f"no such command {command!r}", ctx)
    with click.Context(found, info_name=command, parent=parent) as sub:
        click.echo(found.get_help(sub))


def run() -> None:
    """The ``civitai-orch`` console script: :func:`main`, then a quick exit.

    Everything a command writes is flushed and every file it opened is closed by then,
    so the process leaves with ``os._exit`` instead of tearing the interpreter down
    (which took longer than some commands themselves). httpx's own CLI is not loaded
    (:func:`._startup.skip_httpx_cli`); SIGTERM stops a command as Ctrl-C does
    (:func:`._startup.stop_on_sigterm`); a closed stderr does not change the exit code
    (:func:`._startup.quiet_stderr`).
    """
    from ._startup import quiet_stderr, skip_httpx_cli, stop_on_sigterm

    quiet_stderr()
    skip_httpx_cli()
    stop_on_sigterm()
    try:
        main()
    except SystemExit as leaving:
        code = leaving.code
    else:
        code = 0
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed
            continue
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)

"""`civitai-orch`: the command-line interface, with subcommands loaded on demand."""

from __future__ import annotations

import importlib
from typing import Any

import click

# Subcommand name -> "module:attribute" of its click command, imported only when used,
# so `civitai-orch --help` stays fast.
COMMANDS: dict[str, str] = {
    "block": "civitai_app_sdk.cli.block:block",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when first needed."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="civitai-app-sdk")
def main() -> None:
    """Work with the Civitai Orchestration API, OAuth and App Blocks from a terminal."""

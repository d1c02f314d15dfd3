"""mkdocs hook: load every lazy `civitai-orch` command so mkdocs-click documents them all."""

from __future__ import annotations

from typing import Any

import click


def on_config(config: Any) -> Any:
    """Register each lazily imported subcommand on the root group (docs build only)."""
    from civitai_app_sdk.cli import main

    context = click.Context(main, info_name="civitai-orch")
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        if command is not None:
            main.add_command(command, name)
    return config

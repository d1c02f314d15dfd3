"""Options shared by several commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def json_option(func: F) -> F:
    """``--json``: print one JSON document on stdout and nothing else."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_json_asked,
        help="Print one JSON document on stdout, nothing else.",
    )(func)


def _json_asked(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """Tell failures whether ``--json`` was given as the option, once parsed (the root
    group's guess counts ``--json`` given as a value, as in ``--query --json``)."""
    from . import JSON_REQUESTED

    ctx.meta[JSON_REQUESTED] = value
    return value


def api_options(func: F) -> F:
    """``--token`` and ``--api-url``, which beat the environment and config files."""
    func = click.option(
        "--api-url",
        metavar="URL",
        help="Orchestration API base URL (default: CIVITAI_API_URL, else production).",
    )(func)
    return click.option(
        "--token",
        metavar="TOKEN",
        help="API key or OAuth token (default: CIVITAI_API_TOKEN, ./.env, then `login`).",
    )(func)


def finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A callback refusing ``nan`` and ``inf``, which click's float ranges let through."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds")
    return value

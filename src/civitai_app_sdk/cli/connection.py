"""`civitai-orch test`: one request to check the URL and the token."""

from __future__ import annotations

import click

from ._config import load_settings
from ._options import api_options, json_option
from ._output import emit_json, stdout
from ._session import client_for


@click.command()
@api_options
@json_option
def test(token: str | None, api_url: str | None, as_json: bool) -> None:
    """Check that the API answers and accepts the token (exit 0 only if it does).

    The token itself is never printed, only where it came from.
    """
    settings = load_settings(token=token, api_url=api_url)
    page = client_for(settings).list(take=1)
    data = {
        "ok": True,
        "apiUrl": settings.api_url,
        "tokenSource": settings.token_source,
        "workflowsOnFirstPage": len(page.items or []),
    }
    if as_json:
        emit_json(data)
        return
    console = stdout()
    console.print(f"API:   {settings.api_url}", markup=False)
    console.print(f"Token: from {settings.token_source} (hidden)", markup=False)
    console.print("[green]Connection successful.[/]")

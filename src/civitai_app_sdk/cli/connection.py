"""`civitai-orch test`: one request to check the URL and the token."""

from __future__ import annotations

import click

from civitai_app_sdk._transport import DEFAULT_BASE_URL
from civitai_app_sdk.errors import NotFoundError

from ._config import load_settings
from ._errors import with_server_words
from ._exit import ExitCode
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
    try:
        page = client_for(settings).list(take=1)
    except NotFoundError as exc:  # no workflow id was asked for: the URL is wrong
        source = settings.api_url_source
        raise with_server_words(
            exc,
            f"{settings.api_url} has no workflows endpoint (HTTP 404): the API URL from the "
            f"{'--api-url ' if source == 'flag' else ''}{source} should be the API's root, "
            f"such as {DEFAULT_BASE_URL}",
            ExitCode.NOT_FOUND,
        ) from None
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

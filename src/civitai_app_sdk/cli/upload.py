"""`civitai-orch upload FILE`: stream a file to the blob store and print its blob id."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import api_options, json_option
from ._output import emit_json, stdout, to_data
from ._progress import bar
from ._session import open_client


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--content-type", metavar="TYPE", help="Media type (default: from the file).")
@api_options
@json_option
def upload(
    file: Path, content_type: str | None, token: str | None, api_url: str | None, as_json: bool
) -> None:
    """Upload FILE (streamed, with a progress bar) and print the new blob's id.

    The blob's URL can then be used as a workflow input.
    """
    client = open_client(token, api_url)
    with bar(f"Uploading {file.name}", file.stat().st_size, transfer=True) as progress:

        def advance(sent: int, total: int | None) -> None:
            progress.update(completed=sent, total=total)

        blob = client.upload_blob(file, content_type=content_type, on_progress=advance)
    data = to_data(blob)
    if as_json:
        emit_json(data)
    else:
        stdout().print(str(data.get("id")), markup=False)

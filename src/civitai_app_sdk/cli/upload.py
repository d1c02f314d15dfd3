"""`civitai-orch upload FILE`: stream a file to the blob store and print its blob id."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import click

from ._options import api_options, json_option
from ._output import emit_json, stdout, to_data
from ._progress import bar
from ._session import open_client

_MEDIA_TYPE: Final = re.compile(r"[\w.+-]+/[\w.+-]+(;[\x20-\x7e]*)?", re.ASCII)
"""``type/subtype`` with optional ``;`` parameters, all of it printable ASCII."""


def _media_type(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A ``--content-type`` that can be sent as a header, refused before anything is sent."""
    if value and not _MEDIA_TYPE.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a media type such as image/png")
    return value


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--content-type",
    metavar="TYPE",
    callback=_media_type,
    help="Media type (default: from the file).",
)
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

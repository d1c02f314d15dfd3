"""`civitai-orch upload FILE`: stream a file (or stdin, for ``-``) to the blob store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._exit import CliError, ExitCode
from ._options import api_options, json_option
from ._output import emit_json, printable, stdout, to_data
from ._progress import bar
from ._session import open_client
from ._stdin_file import opened_once, piped_stdin, stdin_as_file

if TYPE_CHECKING:
    from civitai_app_sdk.orchestrator import OrchestratorClient


@click.command()
@click.argument(
    "file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),  # Path("./-") is "-"
)
@click.option("--content-type", metavar="TYPE", help="Media type (default: from the file).")
@api_options
@json_option
def upload(
    file: str, content_type: str | None, token: str | None, api_url: str | None, as_json: bool
) -> None:
    """Upload FILE ('-' for stdin), streamed with a progress bar, and print the blob's id.

    The blob's URL can then be used as a workflow input. Stdin, a named pipe or a
    process substitution (`<(...)`) is first copied to a temporary file (up to 2 GiB;
    its media type is read from its first bytes), so it is uploaded as a file is; a
    terminal or an empty input is refused. A file named "-" is ./-.
    """
    if file != "-":
        path = Path(file)
        if not path.is_file():  # a named pipe, /dev/stdin, <(...): bytes read only once
            client = open_client(token, api_url)
            with opened_once(path) as handle, stdin_as_file(handle, printable(file)) as copy:
                _send(client, copy, path.name, content_type, as_json)
            return
        if path.stat().st_size == 0:
            raise CliError(f"{printable(file)} is empty: nothing to upload", ExitCode.USAGE)
        _send(open_client(token, api_url), path, path.name, content_type, as_json)
        return
    stdin = piped_stdin()
    client = open_client(token, api_url)
    with stdin_as_file(stdin) as copy:
        _send(client, copy, "stdin", content_type, as_json)


def _send(
    client: OrchestratorClient, file: Path, label: str, content_type: str | None, as_json: bool
) -> None:
    with bar(f"Uploading {label}", file.stat().st_size, transfer=True) as progress:

        def advance(sent: int, total: int | None) -> None:
            progress.update(completed=sent, total=total)

        blob = client.upload_blob(file, content_type=content_type, on_progress=advance)
    data = to_data(blob)
    if as_json:
        emit_json(data)
    else:
        stdout().print(str(data.get("id")), markup=False)

"""`civitai-orch results ID [--download]` and `blob BLOB_ID [--download]`."""

from __future__ import annotations

from pathlib import Path

import click

from civitai_app_sdk import errors as sdk
from civitai_app_sdk.orchestrator._bounded_body import DEFAULT_MAX_SIZE

from ._download import (
    blob_stem,
    download_all,
    download_directory,
    failure_reason,
    from_blob_endpoint,
)
from ._exit import CliError, ExitCode
from ._media import workflow_media
from ._options import api_options, json_option
from ._output import emit_json, note, printable, stdout, to_data
from ._progress import bar
from ._session import open_client
from ._shell import command, option
from ._sizes import byte_size, size_text

NSFW_LEVELS = ("pg", "pg13", "r", "x", "xxx", "na")
DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("civitai-downloads"),
    show_default=True,
    help="Where downloads go (created if needed).",
)
MAX_SIZE_OPTION = click.option(
    "--max-size",
    default=size_text(DEFAULT_MAX_SIZE),
    callback=byte_size,
    show_default=True,
    metavar="SIZE",
    help="Stop a download larger than this and keep nothing: bytes, or 500M, 2G, 16GiB "
    "(K, M, G: powers of 1024; KB, MB, GB: of 1000).",
)


@click.command()
@click.argument("workflow_id")
@click.option("--download", is_flag=True, help="Save every output file.")
@DIR_OPTION
@MAX_SIZE_OPTION
@click.option("--nsfw", is_flag=True, help="Include mature outputs (hidden by default).")
@api_options
@json_option
def results(
    workflow_id: str,
    download: bool,
    directory: Path,
    max_size: int,
    nsfw: bool,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """List every output of WORKFLOW_ID (images, videos, audio, 3D models, archives…).

    Files are named <workflow>_<step>_<n> with the extension of their content type;
    existing files are never overwritten. Exit 11 if any download failed.
    """
    client = open_client(token, api_url)
    workflow = to_data(client.get(workflow_id, hide_mature_content=not nsfw))
    items = workflow_media(workflow)
    listed: list[dict[str, object]] = [
        {
            "step": m.step,
            "kind": m.kind,
            "blobId": m.blob_id,
            "url": m.url,
            "available": m.available,
            "blockedReason": m.blocked_reason,
            "size": m.describe() or None,
        }
        for m in items
    ]
    reports = None
    if download and items:
        download_directory(directory)
        with bar("Downloading", transfer=True) as progress:
            reports = download_all(
                client,
                workflow_id,
                items,
                directory,
                hidden_mature=not nsfw,
                progress=progress,
                max_size=max_size,
            )
    if as_json:
        emit_json(
            {
                "workflowId": workflow_id,
                "status": workflow.get("status"),
                "outputs": listed,
                "downloads": reports,
            }
        )
    else:
        save = command(
            "results", workflow_id, options=["--download", *(["--nsfw"] if nsfw else [])]
        )
        _print(workflow_id, workflow.get("status"), listed, reports, save)
    if reports and any(r["status"] == "failed" for r in reports):
        failed = sum(r["status"] == "failed" for r in reports)
        raise CliError(
            f"{failed} download(s) failed; run the command again to retry them",
            ExitCode.DOWNLOAD_FAILED,
        )


def _print(
    workflow_id: str,
    status: object,
    listed: list[dict[str, object]],
    reports: list[dict[str, object]] | None,
    save: str,
) -> None:
    from rich.table import Table
    from rich.text import Text

    console = stdout()
    console.print(
        f"Workflow {workflow_id}: {status}, {len(listed)} output(s)", markup=False, soft_wrap=True
    )
    if not listed:
        return
    table = Table("Step", "Kind")
    table.add_column("Blob", overflow="fold")
    table.add_column("Size")
    table.add_column("State", overflow="fold")
    saved: list[str] = []
    for index, item in enumerate(listed):
        state = "available" if item["url"] else "no URL"
        if item["blockedReason"]:
            state = f"blocked: {item['blockedReason']}"
        if reports:
            report = reports[index]
            if report.get("path"):
                state = "saved"
                saved.append(str(report["path"]))
            else:
                state = f"{report['status']}: {report.get('reason')}"
        cells = (item["step"], item["kind"], item["blobId"] or "-", item["size"] or "", state)
        table.add_row(*(Text(printable(str(cell))) for cell in cells))  # never markup
    console.print(table)
    for path in saved:  # whole paths on their own lines: a table would cut them
        console.print(f"Saved {path}", markup=False, soft_wrap=True)
    if reports is None and any(item["url"] for item in listed):
        note(f"Save them with: {save}")


@click.command()
@click.argument("blob_id")
@click.option("--download", is_flag=True, help="Save the blob's bytes.")
@DIR_OPTION
@MAX_SIZE_OPTION
@click.option(
    "--nsfw-level",
    type=click.Choice(NSFW_LEVELS),
    help="Refuse the blob if it is rated above this level (or unrated).",
)
@click.option(
    "--nsfw", is_flag=True, help="Accept any rating (the default; kept for the Node CLI)."
)
@click.option("--workflow", "workflow_id", metavar="ID", help="The workflow that made it.")
@api_options
@json_option
def blob(
    blob_id: str,
    download: bool,
    directory: Path,
    max_size: int,
    nsfw_level: str | None,
    nsfw: bool,
    workflow_id: str | None,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """Check that BLOB_ID exists and can be read; --download saves it.

    The file is named after the blob with the extension of its content type.
    """
    if nsfw and nsfw_level:
        raise CliError("use either --nsfw or --nsfw-level", ExitCode.USAGE)
    client = open_client(token, api_url)
    size: int | None
    if download:
        download_directory(directory)
        with bar(f"Downloading {blob_id}", transfer=True) as progress:
            try:
                path, size = from_blob_endpoint(
                    client,
                    blob_id,
                    directory,
                    blob_stem(blob_id),
                    max_size=max_size,
                    workflow_id=workflow_id,
                    nsfw_level=nsfw_level,
                )
            except sdk.ResponseTooLargeError as exc:  # not the API's answer: the file's size
                reason = failure_reason(exc)
                raise CliError(f"{blob_id}: {reason}", ExitCode.DOWNLOAD_FAILED) from None
            progress.update(total=size, completed=size)
        data = {"blobId": blob_id, "path": str(path), "bytes": size}
    else:
        size = client.blob_size(blob_id, workflow_id=workflow_id, nsfw_level=nsfw_level)
        data = {"blobId": blob_id, "exists": True, "bytes": size}  # HEAD: nothing downloaded
    if as_json:
        emit_json(data)
    elif download:
        stdout().print(f"Saved {size} bytes to {data['path']}", markup=False)
    else:
        shown = "" if size is None else f", {size} bytes"
        stdout().print(f"Blob {blob_id}: readable{shown}", markup=False)
        chosen = {"--workflow": workflow_id, "--nsfw-level": nsfw_level}
        options = ["--download", *(option(flag, v) for flag, v in chosen.items() if v)]
        note(f"Save it with: {command('blob', blob_id, options=options)}")

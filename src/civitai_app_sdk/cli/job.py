"""`civitai-orch job JOB_ID [--raw]`: the v1 job document with its scan results.

The v1 consumer job endpoint is outside the v2 spec; its field names are those of the
internal job document, read defensively. Zero scores are shown, not hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import click

from civitai_app_sdk.orchestrator._params import segment

from ._config import load_settings
from ._http import get_json
from ._options import api_options, json_option
from ._output import emit_json, entries, shorten, stdout

HIGHLIGHTED: Final = ("hive_csam_score", "hive_vlm_summary", "blocked_reason", "nsfwLevel")
CLASSIFICATION: Final = ("sexual", "young", "CR", "scan")


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(*values: object) -> object:
    return next((v for v in values if v is not None), None)


def job_lines(response: Mapping[str, Any]) -> list[str]:
    """The summary lines of a v1 job response."""
    job = _map(response.get("job")) or response
    lines = [
        "Job Summary:",
        f"  ID: {_first(job.get('id'), response.get('jobId'))}",
        f"  Type: {_first(job.get('type'), job.get('Type'))}",
        f"  Created: {_first(job.get('createdAt'), job.get('created'))}",
        f"  Cost: {_first(response.get('cost'), job.get('cost'))}",
    ]
    workflow_id = _map(job.get("properties")).get("workflowId")
    if workflow_id:
        lines.append(f"  Workflow ID: {workflow_id}")
    params = _map(job.get("params"))
    if params.get("prompt"):
        lines.append(f"  Prompt: {shorten(params['prompt'], 200)}")
    if params.get("negativePrompt"):
        lines.append(f"  Negative: {shorten(params['negativePrompt'], 100)}")
    flags = _map(job.get("promptClassificationResult"))
    raised = [name for name in CLASSIFICATION if flags.get(name)]
    if flags:
        lines.append(f"Prompt Classification: {', '.join(raised) or 'none'}")
    results = [r for r in entries(response.get("result")) if isinstance(r, Mapping)]
    if results:
        lines.append(f"Results ({len(results)} blob(s)):")
        lines += [f"  - {r.get('blobKey')} (available: {r.get('available')})" for r in results]
    event = _map(job.get("lastEvent") or response.get("lastEvent"))
    if event:
        lines.append("Last Event:")
        for label, key in (
            ("Type", "type"),
            ("Time", "dateTime"),
            ("Provider", "provider"),
            ("Worker", "workerId"),
            ("Duration", "jobDuration"),
        ):
            if event.get(key) is not None:
                lines.append(f"  {label}: {event[key]}")
    context = _map(event.get("context"))
    if context:
        lines.append("Event Context (scan results, metrics):")
        lines += [f"  ** {k}: {shorten(context[k], 80)}" for k in HIGHLIGHTED if k in context]
        lines += [f"  {k}: {shorten(v, 80)}" for k, v in context.items() if k not in HIGHLIGHTED]
    return lines


@click.command()
@click.argument("job_id")
@click.option("--raw", is_flag=True, help="Print the raw JSON (same as --json).")
@api_options
@json_option
def job(job_id: str, raw: bool, token: str | None, api_url: str | None, as_json: bool) -> None:
    """Show JOB_ID (from a workflow's steps[].jobs[].id): prompt, results, scan scores."""
    body = get_json(
        load_settings(token=token, api_url=api_url),
        f"/v1/consumer/jobs/{segment(job_id, 'job_id')}",
        [("detailed", "true")],
    )
    if raw or as_json:
        emit_json(body)
        return
    for line in job_lines(_map(body)):
        stdout().print(line, markup=False)

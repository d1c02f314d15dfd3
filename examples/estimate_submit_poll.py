"""Estimate a text-to-image workflow, ask before spending Buzz, submit, poll, save images.

Run with CIVITAI_API_TOKEN set (and optionally CIVITAI_API_URL):

    python examples/estimate_submit_poll.py "a lighthouse at dusk" ./out
"""

from __future__ import annotations

import sys
from pathlib import Path

from civitai_app_sdk.errors import (
    ConfigurationError,
    InsufficientBuzzError,
    OrchestratorError,
    PollTimeoutError,
)
from civitai_app_sdk.models import Workflow
from civitai_app_sdk.orchestrator import (
    BlobExistsError,
    OrchestratorClient,
    build_text_to_image_body,
    extract_images,
)


def show(workflow: Workflow) -> None:
    """Print a one-line progress report."""
    print(f"  {workflow.id}: {workflow.status.value}")


def main(prompt: str, out_dir: Path) -> int:
    """Estimate, confirm, submit, poll and download; return a process exit code."""
    body = build_text_to_image_body({"prompt": prompt, "quantity": 2}, tags=["sdk-example"])
    with OrchestratorClient() as client:
        estimate = client.estimate(body)
        short = estimate.transactions is not None and estimate.transactions.insufficient_buzz
        total = estimate.cost.total if estimate.cost else "an unknown amount of"
        print(f"This costs {total} Buzz" + (" (balance too low)" if short else ""))
        if input("Submit? [y/N] ").strip().lower() != "y":
            return 1
        try:
            submitted = client.submit(body, idempotent=True, wait=10)
            if submitted.id is None:
                print("The service returned no workflow id", file=sys.stderr)
                return 4
            finished = client.poll(submitted.id, timeout=600, on_update=show)
        except InsufficientBuzzError as exc:
            print(f"Not submitted: {exc}", file=sys.stderr)
            return 2
        except PollTimeoutError as exc:
            print(f"Still running: {exc}", file=sys.stderr)
            return 3
        except OrchestratorError as exc:
            print(f"Failed: {exc}", file=sys.stderr)
            return 4
        print(f"Finished: {finished.status.value}")
        for image in extract_images(finished):
            if not image.available:
                continue
            try:  # one file per image, named after it, in out_dir (created if needed)
                path = client.download_blob(image.id, dir=out_dir, workflow_id=finished.id)
            except BlobExistsError as exc:
                print(f"  kept the existing {exc.path}")
            else:
                print(f"  saved {path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {sys.argv[0]} PROMPT OUT_DIR")
    try:
        code = main(sys.argv[1], Path(sys.argv[2]))
    except ConfigurationError as exc:  # no token, a bad CIVITAI_API_URL
        raise SystemExit(f"set-up: {exc}") from None
    raise SystemExit(code)

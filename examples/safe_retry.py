"""Submit a workflow so that no failure can charge twice; catch every SDK error in one place.

Run with CIVITAI_API_TOKEN set (and optionally CIVITAI_API_URL):

    python examples/safe_retry.py "a lighthouse at dusk"

A consumer of the typed API: ``mypy --strict`` checks it with the rest of the project.
"""

from __future__ import annotations

import sys

from civitai_app_sdk import CivitaiError
from civitai_app_sdk.errors import ConfigurationError, InsufficientBuzzError
from civitai_app_sdk.models import Workflow
from civitai_app_sdk.orchestrator import OrchestratorClient, WorkflowBody, build_text_to_image_body


def submit_once(client: OrchestratorClient, body: WorkflowBody) -> Workflow:
    """Submit ``body``; after a failure, retry once with the key the error carries.

    The key makes the retry the same workflow: the server runs and charges it once.
    """
    try:
        return client.submit(body)
    except CivitaiError as exc:
        if exc.external_id is None:
            raise
        print(f"submit failed ({exc}); retrying with its key", file=sys.stderr)
        return client.submit(body, external_id=exc.external_id)


def main(prompt: str) -> int:
    """Submit one text-to-image workflow; return a process exit code."""
    try:
        with OrchestratorClient() as client:
            workflow = submit_once(client, build_text_to_image_body({"prompt": prompt}))
    except ConfigurationError as exc:
        print(f"set-up: {exc}", file=sys.stderr)
        return 2
    except InsufficientBuzzError as exc:
        print(f"not enough Buzz: {exc}", file=sys.stderr)
        return 4
    except CivitaiError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    print(workflow.id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "a lighthouse at dusk"))

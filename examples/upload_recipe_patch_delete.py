"""Upload an image, run a recipe on it, retag a workflow with a JSON Patch, then delete it.

Run with CIVITAI_API_TOKEN set (and optionally CIVITAI_API_URL); this spends Buzz:

    python examples/upload_recipe_patch_delete.py picture.png "a watercolour version"
"""

from __future__ import annotations

import sys
from pathlib import Path

from civitai_app_sdk.errors import CivitaiError, ConfigurationError, OrchestratorError
from civitai_app_sdk.models import TextToImageInput
from civitai_app_sdk.orchestrator import OrchestratorClient, build_text_to_image_body, make_patch


def progress(sent: int, total: int | None) -> None:
    """Print upload progress on one line."""
    shown = f"{sent * 100 // total}%" if total else f"{sent} bytes"
    print(f"\r  uploaded {shown}", end="", flush=True)


def main(image: Path, prompt: str) -> int:
    """Upload, run the textToImage recipe, submit and retag a workflow, delete it."""
    with OrchestratorClient() as client:
        try:
            blob = client.upload_blob(image, on_progress=progress)
        except CivitaiError as exc:  # no such file, not readable, or the upload failed
            print(f"The upload failed: {exc}", file=sys.stderr)
            return 1
        print(f"\nblob {blob.id}: {blob.url}")
        if blob.url is None:
            print("The uploaded blob has no URL to use as an input", file=sys.stderr)
            return 1
        step_input = TextToImageInput(prompt=prompt, source_image=blob.url, width=512, height=512)
        try:
            output = client.recipes.text_to_image(step_input)  # spends Buzz; sent once
        except OrchestratorError as exc:
            print(f"The recipe failed (it is not retried automatically): {exc}", file=sys.stderr)
            return 2
        print("recipe images:", [image.url for image in output.images])

        body = build_text_to_image_body({"prompt": prompt}, tags=["draft"])
        workflow = client.submit(body, idempotent=True)
        if workflow.id is None:
            print("The service returned no workflow id", file=sys.stderr)
            return 3
        before = {"tags": list(workflow.tags or [])}
        client.patch(workflow.id, make_patch(before, {"tags": [*before["tags"], "keep"]}))
        print("tags now:", client.get(workflow.id).tags)
        client.delete(workflow.id)
        print(f"deleted {workflow.id}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {sys.argv[0]} IMAGE PROMPT")
    try:
        code = main(Path(sys.argv[1]), sys.argv[2])
    except ConfigurationError as exc:  # no token, a bad CIVITAI_API_URL
        raise SystemExit(f"set-up: {exc}") from None
    raise SystemExit(code)

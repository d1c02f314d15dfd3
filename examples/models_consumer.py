"""A consumer of the generated models, checked by `mypy --strict` in `make check`.

Builds a request with typed models and as a typed dict literal, validates both strictly
(as the client does before sending), and reads a response.
"""

from __future__ import annotations

import datetime as dt

from civitai_app_sdk.models import (
    ImageBlob,
    TextToImageInput,
    TextToImageStep,
    TextToImageStepTemplate,
    UnknownWorkflowStep,
    Workflow,
    WorkflowTemplate,
    WorkflowTemplateParam,
)
from civitai_app_sdk.orchestrator import validate_workflow_body


def build_request() -> WorkflowTemplate:
    """A one-step text-to-image workflow, built with typed constructors."""
    step = TextToImageStepTemplate(  # `$type` is set from the class: textToImage
        input=TextToImageInput(
            model="urn:air:sdxl:checkpoint:civitai:101055@128078",
            prompt="a lighthouse at dusk, oil painting",
            cfg_scale=7.0,
            width=1024,
            height=1024,
        ),
        timeout=dt.timedelta(minutes=10),
    )
    body = WorkflowTemplate(steps=[step], tags=["example"])
    validate_workflow_body(body)  # raises RequestValidationError listing every problem
    return body


def build_request_dict() -> WorkflowTemplateParam:
    """The same workflow as its JSON form: mypy checks every key, value and `$type`."""
    body: WorkflowTemplateParam = {
        "steps": [
            {
                "$type": "textToImage",
                "timeout": "00:10:00",
                "input": {
                    "model": "urn:air:sdxl:checkpoint:civitai:101055@128078",
                    "prompt": "a lighthouse at dusk, oil painting",
                    "cfgScale": 7.0,
                    "width": 1024,
                    "height": 1024,
                },
            }
        ],
        "tags": ["example"],
    }
    validate_workflow_body(body)
    return body


def image_urls(workflow: Workflow) -> list[str]:
    """Every image URL of the workflow's text-to-image steps."""
    urls: list[str] = []
    for step in workflow.steps:
        if isinstance(step, UnknownWorkflowStep):
            continue
        if isinstance(step, TextToImageStep) and step.output is not None:
            # An image of a blob type this SDK does not know yet arrives as UnknownBlob.
            images = [i for i in step.output.images if isinstance(i, ImageBlob)]
            urls.extend(str(image.url) for image in images if image.url is not None)
    return urls


if __name__ == "__main__":
    print(build_request().model_dump_json(by_alias=True, exclude_none=True, indent=2))

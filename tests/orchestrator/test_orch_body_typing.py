"""Request bodies are typed: mypy --strict reports a wrong dict literal or model argument.

One mypy run (the project's configuration) over purpose-written snippets; each snippet
must produce exactly the errors named here, and the correct ones none.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEADER = """\
from typing import Any, cast

from civitai_app_sdk.orchestrator import (
    AsyncOrchestratorClient,
    OrchestratorClient,
    build_text_to_image_body,
)
from civitai_app_sdk_generated import TextToImageInput, TextToImageStepTemplate, WorkflowTemplate
from civitai_app_sdk_generated.params import WorkflowTemplateParam

"""

SNIPPETS: dict[str, tuple[str, list[str]]] = {
    "misspelt_key": (
        """
        def run(client: OrchestratorClient) -> None:
            client.submit(
                {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "widht": 512}}]}
            )
        """,
        [r"incompatible type|ambiguous"],
    ),
    "wrong_type": (
        """
        async def run(client: AsyncOrchestratorClient) -> None:
            await client.estimate(
                {"steps": [{"$type": "textToImage", "input": {"prompt": "x", "width": "512"}}]}
            )
        """,
        [r"incompatible type|ambiguous"],
    ),
    "unknown_step_type": (
        """
        def run(client: OrchestratorClient) -> None:
            client.submit({"steps": [{"$type": "textToImag", "input": {"prompt": "x"}}]})
        """,
        [r"incompatible type|ambiguous"],
    ),
    "misspelt_top_level_key": (
        """
        body: WorkflowTemplateParam = {"steps": [], "tag": ["x"]}
        """,
        [r'Extra key "tag"'],
    ),
    "nested_wrong_literal": (
        """
        body: WorkflowTemplateParam = {
            "steps": [{"$type": "textToImage", "input": {"prompt": "x", "scheduler": "eulr"}}]
        }
        """,
        [r"incompatible type|ambiguous"],
    ),
    "model_unknown_argument": (
        """
        TextToImageInput(prompt="x", widht=7)
        """,
        [r'Unexpected keyword argument "widht"'],
    ),
    "builder_wrong_type": (
        """
        build_text_to_image_body({"prompt": "x", "quantity": "2"})
        """,
        [r"incompatible type"],
    ),
    "correct": (
        """
        def run(client: OrchestratorClient, data: dict[str, Any]) -> None:
            client.submit(
                {
                    "steps": [
                        {
                            "$type": "textToImage",
                            "name": "first",
                            "input": {"prompt": "x", "width": 512, "scheduler": "euler"},
                        },
                        {
                            "$type": "imageGen",
                            "input": {
                                "engine": "openai",
                                "model": "gpt-image-1",
                                "operation": "createImage",
                                "prompt": "y",
                            },
                        },
                        {"$type": "echo", "input": {"message": "hi"}},
                    ],
                    "tags": ["a"],
                    "currencies": ["blue"],
                },
                external_id="key-1",
            )
            client.estimate(build_text_to_image_body({"prompt": "x", "width": 768}))
            client.estimate(cast(WorkflowTemplateParam, data))
            step = TextToImageStepTemplate(input=TextToImageInput(prompt="x", width=512))
            client.estimate(WorkflowTemplate(steps=[step]))
        """,
        [],
    ),
}


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Errors per snippet name, from one mypy run with the project's configuration."""
    folder = tmp_path_factory.mktemp("typing")
    files = []
    for name, (body, _) in SNIPPETS.items():
        path = folder / f"snippet_{name}.py"
        path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--no-pretty", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=900,
    )
    errors: dict[str, list[str]] = {name: [] for name in SNIPPETS}
    for line in result.stdout.splitlines():
        match = re.search(r"snippet_(\w+)\.py:\d+: error: (.*)", line)
        if match:
            errors[match[1]].append(match[2])
    unexplained = [
        ln for ln in result.stdout.splitlines() if ": error:" in ln and "snippet_" not in ln
    ]
    assert not unexplained, unexplained
    assert result.returncode in (0, 1), result.stderr
    return errors


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_mypy_checks_request_bodies(name: str, mypy_output: dict[str, list[str]]) -> None:
    _, expected = SNIPPETS[name]
    found = mypy_output[name]
    if not expected:
        assert found == []
        return
    assert found, f"mypy accepted the {name} snippet"
    for pattern in expected:
        assert any(re.search(pattern, error) for error in found), found

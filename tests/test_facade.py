"""The package facade: lazy, complete, and typed."""

from __future__ import annotations

import subprocess
import sys

import pytest

import civitai_app_sdk


def test_import_loads_no_models_and_no_http_stack() -> None:
    code = (
        "import sys, civitai_app_sdk, civitai_app_sdk.models; "
        "heavy = [m for m in ('civitai_app_sdk_generated.models', 'httpx', 'pydantic') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", civitai_app_sdk.__all__)
def test_every_export_resolves(name: str) -> None:
    assert getattr(civitai_app_sdk, name) is not None


def test_all_matches_the_lazy_table() -> None:
    assert sorted(civitai_app_sdk.__all__) == sorted(civitai_app_sdk._EXPORTS)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = civitai_app_sdk.Nope  # type: ignore[attr-defined]


def test_models_face_reaches_generated_names() -> None:
    from civitai_app_sdk import models

    assert models.Workflow.__name__ == "Workflow"
    assert models.WORKFLOW_STEP_TYPES["textToImage"].step_model is models.TextToImageStep
    with pytest.raises(AttributeError):
        _ = models.NotAModel


def test_every_generated_name_is_reachable_through_the_models_face() -> None:
    from civitai_app_sdk_generated import HOMES

    from civitai_app_sdk import models

    assert {"PRESET_LABELS", "format_timespan", "Workflow", "WORKFLOW_STEP_TYPES"} <= set(HOMES)
    missing = [name for name in HOMES if getattr(models, name, None) is None]
    assert missing == []

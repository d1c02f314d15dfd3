"""``from civitai_app_sdk.models import *`` binds at run time what mypy says it binds."""

from __future__ import annotations

import subprocess
import sys


def test_a_star_import_of_the_models_binds_every_generated_name() -> None:
    code = (
        "from civitai_app_sdk.models import *\n"
        "from civitai_app_sdk_generated import HOMES\n"
        "names = globals()\n"
        "print(sorted(set(HOMES) - set(names)), Workflow.__name__, TextToImageInput.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]", "Workflow", "TextToImageInput"]


def test_importing_the_models_module_alone_still_loads_no_model() -> None:
    code = (
        "import sys, civitai_app_sdk.models\n"
        "print([m for m in sys.modules if m.startswith('civitai_app_sdk_generated._models')])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

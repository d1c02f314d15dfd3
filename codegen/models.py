"""Drive datamodel-code-generator over the normalised spec with pinned options."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from codegen.normalize import TIMESPAN, Union_

PACKAGE = "civitai_app_sdk_generated"
CUSTOM_TEMPLATES = Path(__file__).parent / "templates" / "datamodel"
"""Our overrides of the generator's own templates (open enums, safe member names)."""
ADDITIONAL_IMPORTS = (
    "typing.TYPE_CHECKING",
    f"{PACKAGE}._base.OpenUnion",
    f"{PACKAGE}._base.OpenEnum",
    f"{PACKAGE}._base.OpenIntEnum",
    f"{PACKAGE}._base.OpenStrEnum",
)
"""What the open enums and the tagged unions (see `postprocess`) refer to."""


def generator_options(unions: dict[str, Union_]) -> list[str]:
    """The datamodel-code-generator command line (everything that shapes the output).

    URLs stay `str`: signed blob URLs must reach the caller byte for byte, and URL
    parsing took about a third of the time of reading a typical workflow.
    """
    fallbacks = {u.fallback: f"{PACKAGE}._base.UnknownVariant" for u in unions.values()}
    return [
        "--input-file-type", "openapi",
        "--output-model-type", "pydantic_v2.BaseModel",
        "--target-python-version", "3.11",
        "--base-class", f"{PACKAGE}._base.ApiModel",
        "--base-class-map", json.dumps(fallbacks, sort_keys=True),
        "--type-overrides", json.dumps({TIMESPAN: f"{PACKAGE}._base.TimeSpan"}),
        "--no-collapse-root-models",
        "--use-type-alias",
        "--disable-timestamp",
        "--disable-future-imports",
        "--strict-nullable",
        "--use-annotated",
        "--use-union-operator",
        "--use-standard-collections",
        "--snake-case-field",
        "--field-constraints",
        "--use-double-quotes",
        "--use-schema-description",
        "--use-field-description",
        "--enum-field-as-literal", "one",
        "--deserialize-default-values", "enum",
        "--type-mappings", "string+uri=string",
        "--naming-strategy", "parent-prefixed",
        "--formatters", "builtin",
        "--disable-warnings",
        "--custom-template-dir", str(CUSTOM_TEMPLATES),
        "--additional-imports", ",".join(ADDITIONAL_IMPORTS),
    ]  # fmt: skip


def models_document(spec: dict[str, Any]) -> dict[str, Any]:
    """Only what the models need: schemas (paths and examples do not shape them)."""
    return {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "paths": {},
        "components": {"schemas": spec["components"]["schemas"]},
    }


def run_generator(spec: dict[str, Any], unions: dict[str, Union_]) -> str:
    """Run datamodel-code-generator on the normalised spec; return the module source."""
    with tempfile.TemporaryDirectory(prefix="civitai-codegen-") as tmp:
        source = Path(tmp) / "spec.json"
        target = Path(tmp) / "models.py"
        source.write_text(json.dumps(models_document(spec), sort_keys=True), encoding="utf-8")
        # Left to itself, the generator reads options from a pyproject.toml above its working
        # directory (`--ignore-pyproject` stops that) and its formatter's line length, quotes
        # and first-party names from the nearest one: an empty one here keeps any file above
        # $TMPDIR out of the output.
        (Path(tmp) / "pyproject.toml").write_text("", encoding="utf-8")
        command = [
            sys.executable, "-m", "datamodel_code_generator",
            "--input", str(source), "--output", str(target),
            "--ignore-pyproject", *generator_options(unions),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(f"datamodel-code-generator failed:\n{result.stderr[-4000:]}")
        return target.read_text(encoding="utf-8")

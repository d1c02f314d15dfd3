"""The generation pipeline: pinned inputs -> normalised spec -> models and catalogs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen import catalogs, inputs, models, normalize, postprocess, render, scopes

PATCHES = Path(__file__).parent / "patches.toml"
OUTPUT_DIR = inputs.ROOT / "generated" / models.PACKAGE


@dataclass(frozen=True)
class Generation:
    """Every generated file (path relative to `OUTPUT_DIR` -> text) and the notes."""

    files: dict[str, str]
    notes: tuple[str, ...]


def load_patches(path: Path = PATCHES) -> list[dict[str, Any]]:
    """The JSON-pointer corrections, each with its reason."""
    with path.open("rb") as handle:
        patches: list[dict[str, Any]] = tomllib.load(handle).get("patch", [])
    return patches


def lint_and_format(source: str, filename: str) -> str:
    """Drop unused imports, sort imports and format with the pinned ruff."""
    fixed = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F401,I",
         "--fix-only", "--exit-zero", "--stdin-filename", filename, "-"],
        input=source, capture_output=True, text=True, check=True, cwd=inputs.ROOT,
    )  # fmt: skip
    return render.ruff_format(fixed.stdout, filename)


def generate(entries: dict[str, inputs.LockEntry]) -> Generation:
    """Run the whole pipeline on the pinned inputs; touches nothing on disk."""
    spec = inputs.load_json(entries["orchestrator"])
    discovery = inputs.load_json(entries["discovery"])
    scope_names = inputs.load_json(entries["scopes"])
    digests = {key: entries[key].sha256 for key in ("orchestrator", "discovery", "scopes")}
    header = render.header(digests)

    normalised, unions, notes = normalize.normalize(spec, load_patches())
    raw_models = models.run_generator(normalised, unions)
    model_source = header + "\n" + postprocess.postprocess(raw_models, unions)
    table = scopes.build_scope_table(discovery, scope_names)
    catalog = catalogs.build_catalogs(normalised, unions)

    files = {
        "_base.py": render.render("_base.py.j2", header=header),
        "models.py": model_source,
        "scopes.py": render.render("scopes.py.j2", header=header, table=table),
        "steps.py": render.render("steps.py.j2", header=header, catalog=catalog),
        "engines.py": render.render("engines.py.j2", header=header, catalog=catalog),
        "__init__.py": render.render(
            "__init__.py.j2", header=header, names=catalogs.exported_names(model_source)
        ),
    }
    formatted = {name: lint_and_format(text, name) for name, text in sorted(files.items())}
    return Generation(formatted, tuple(notes) + table.warnings)


def write(generation: Generation, output: Path = OUTPUT_DIR) -> list[str]:
    """Write the generated files; remove stale ones; return what changed."""
    output.mkdir(parents=True, exist_ok=True)
    changed = [
        name for name in sorted(generation.files) if _differs(output / name, generation.files[name])
    ]
    for name in changed:
        (output / name).write_text(generation.files[name], encoding="utf-8")
    for stale in sorted(output.glob("*.py")):
        if stale.name not in generation.files:
            stale.unlink()
            changed.append(stale.name)
    (output / "py.typed").touch()
    return changed


def _differs(path: Path, text: str) -> bool:
    return not path.is_file() or path.read_text(encoding="utf-8") != text


def differences(generation: Generation, output: Path = OUTPUT_DIR) -> list[str]:
    """Generated files whose committed copy differs from `generation` (or is extra)."""
    diff = [
        name for name in sorted(generation.files) if _differs(output / name, generation.files[name])
    ]
    extra = [p.name for p in sorted(output.glob("*.py")) if p.name not in generation.files]
    return diff + extra

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
    digests = {key: entries[key].sha256 for key in ("orchestrator", "discovery", "scopes")}
    header = render.header(digests)

    normalised, unions, notes = normalize.normalize(spec, load_patches())
    raw_models = models.run_generator(normalised, unions)
    model_source = header + "\n" + postprocess.postprocess(raw_models, unions)
    scope_module, scope_notes = _scope_module(entries, header)
    catalog = catalogs.build_catalogs(normalised, unions)

    modules = {
        "_base": render.render("_base.py.j2", header=header),
        "models": model_source,
        "scopes": scope_module,
        "steps": render.render("steps.py.j2", header=header, catalog=catalog),
        "engines": render.render("engines.py.j2", header=header, catalog=catalog),
    }
    package = render.render(
        "__init__.py.j2",
        header=header,
        modules=sorted(modules),
        homes=catalogs.name_homes(modules),
    )
    files = {f"{name}.py": text for name, text in modules.items()} | {"__init__.py": package}
    formatted = {name: lint_and_format(text, name) for name, text in sorted(files.items())}
    return Generation(formatted, tuple(notes) + scope_notes)


def _scope_module(entries: dict[str, inputs.LockEntry], header: str) -> tuple[str, tuple[str, ...]]:
    """`scopes.py` from the discovery document and scope table, or the committed copy.

    Neither input is published as a file, so a clone without ../shared keeps what is
    committed (its header pins the same digests).
    """
    needed = (entries["discovery"], entries["scopes"])
    if not all(inputs.is_present(entry) for entry in needed):
        names = " and ".join(entry.file for entry in needed)
        note = f"{names} unavailable (no published file): kept the committed scopes.py"
        return (OUTPUT_DIR / "scopes.py").read_text(encoding="utf-8"), (note,)
    discovery, scope_names = (inputs.load_json(entry) for entry in needed)
    table = scopes.build_scope_table(discovery, scope_names)
    return render.render("scopes.py.j2", header=header, table=table), table.warnings


def differences(generation: Generation, output: Path = OUTPUT_DIR) -> list[str]:
    """Generated files whose copy in `output` differs from `generation` (or is extra)."""
    stale = [
        name
        for name, text in sorted(generation.files.items())
        if not (output / name).is_file() or (output / name).read_text(encoding="utf-8") != text
    ]
    extra = [p.name for p in sorted(output.glob("*.py")) if p.name not in generation.files]
    return stale + extra


def write(generation: Generation, output: Path = OUTPUT_DIR) -> list[str]:
    """Write the generated files; remove stale ones; return what changed."""
    output.mkdir(parents=True, exist_ok=True)
    changed = differences(generation, output)
    for name in changed:
        if name in generation.files:
            (output / name).write_text(generation.files[name], encoding="utf-8")
        else:
            (output / name).unlink()
    (output / "py.typed").touch()
    return changed

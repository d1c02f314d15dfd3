"""The generation pipeline: pinned inputs -> normalised spec -> models and catalogs."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen import (
    app_block_schema,
    catalogs,
    inputs,
    models,
    normalize,
    operations,
    postprocess,
    render,
    request_shapes,
    scopes,
    split,
)

PATCHES = Path(__file__).parent / "patches.toml"
OUTPUT_DIR = inputs.ROOT / "generated" / models.PACKAGE


@dataclass(frozen=True)
class Generation:
    """Every generated file (path relative to `OUTPUT_DIR` -> text) and the notes."""

    files: dict[str, str]
    notes: tuple[str, ...]
    methods: dict[str, str] = field(default_factory=dict)


def load_patches(path: Path = PATCHES) -> list[dict[str, Any]]:
    """The JSON-pointer corrections, each with its reason."""
    with path.open("rb") as handle:
        patches: list[dict[str, Any]] = tomllib.load(handle).get("patch", [])
    return patches


def lint_and_format(files: dict[str, str]) -> dict[str, str]:
    """Drop unused imports, sort imports and format every file with the pinned ruff.

    One ruff run per step over a scratch copy of the files (one run per file took a
    minute once the models were split into many modules).
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        ruff = [sys.executable, "-m", "ruff"]
        subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
            [*ruff, "check", "--isolated", "--select", "F401,I", "--fix-only", "--exit-zero",
             "--quiet", scratch],
            capture_output=True, text=True, check=True, cwd=inputs.ROOT,
        )  # fmt: skip
        render.ruff_format_tree(root)
        return {name: (root / name).read_text(encoding="utf-8") for name in sorted(files)}


def render_operations(ops: tuple[operations.Operation, ...], header: str) -> dict[str, str]:
    """The operation layer: descriptors and the clients' rendered methods."""
    names = operations.model_names(ops)
    context = {"header": header, "operations": ops, "models": names}
    return {
        "operations": render.render("operations.py.j2", **context),
        "client_methods": render.render("client_methods.py.j2", **context),
    }


def generate(entries: dict[str, inputs.LockEntry]) -> Generation:
    """Run the whole pipeline on the pinned inputs; touches nothing on disk."""
    spec = inputs.load_json(entries["orchestrator"])
    digests = {key: entries[key].sha256 for key in ("orchestrator", "discovery", "scopes")}
    header = render.header(digests)

    normalised, unions, notes = normalize.normalize(spec, load_patches())
    requests = request_shapes.request_schemas(normalised)
    normalised, opened = request_shapes.open_member_refs(normalised, unions, requests)
    normalised = request_shapes.tag_defaults(normalised, unions)
    raw_models = models.run_generator(normalised, unions | opened)
    lenient = postprocess.postprocess(raw_models, unions | opened, frozenset(requests))
    model_source = request_shapes.request_bases(lenient, requests)
    scope_module, scope_notes = _scope_module(entries, header)
    catalog = catalogs.build_catalogs(normalised, unions)
    ops = operations.build_operations(normalised)

    model_modules, lazy_holders = split.split(model_source, header)
    modules = model_modules | {
        "_base": render.render("_base.py.j2", header=header),
        "scopes": scope_module,
        "steps": render.render("steps.py.j2", header=header, catalog=catalog),
        "engines": render.render("engines.py.j2", header=header, catalog=catalog),
        "params": request_shapes.typed_dicts(normalised, unions, requests, header),
        "app_block_schema": app_block_schema.module(entries["app_block_schema"]),
        **render_operations(ops, header),
    }
    package = render.render(
        "__init__.py.j2",
        header=header,
        modules=sorted(m for m in modules if not m.startswith(f"{split.CHUNK_PACKAGE}.")),
        homes=catalogs.name_homes(modules),
        lazy_holders=lazy_holders,
    )
    files = {f"{name.replace('.', '/')}.py": text for name, text in modules.items()}
    files["__init__.py"] = package
    methods = {op.operation_id: op.attribute for op in ops}
    return Generation(lint_and_format(files), tuple(notes) + scope_notes, methods)


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
    # Bytes, not text: reading text would translate CRLF, so a checkout with CRLF line
    # endings (or a generation written with them) would pass for byte-identical.
    stale = [
        name
        for name, text in sorted(generation.files.items())
        if not (output / name).is_file() or (output / name).read_bytes() != text.encode("utf-8")
    ]
    present = sorted(p.relative_to(output).as_posix() for p in output.rglob("*.py"))
    extra = [name for name in present if name not in generation.files]
    return stale + extra


def write(generation: Generation, output: Path = OUTPUT_DIR) -> list[str]:
    """Write the generated files; remove stale ones; return what changed."""
    output.mkdir(parents=True, exist_ok=True)
    changed = differences(generation, output)
    for name in changed:
        if name in generation.files:
            (output / name).parent.mkdir(parents=True, exist_ok=True)
            (output / name).write_bytes(generation.files[name].encode("utf-8"))
        else:
            (output / name).unlink()
    (output / "py.typed").touch()
    return changed

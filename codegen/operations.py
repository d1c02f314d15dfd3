"""The operation layer's intermediate representation: the spec's paths as plain records.

`build_operations` reads every path of the (normalised) spec into an :class:`Operation`
(method, path template, typed path and query parameters with their defaults, body and
response models, whether it may charge, whether a retry is safe, the client attribute).
The templates `operations.py.j2` and `client_methods.py.j2` render these records and
nothing else, so a new operation in the spec reaches both clients through `make codegen`.
"""

from __future__ import annotations

import itertools
import keyword
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.normalize import REF_PREFIX, UnsupportedSpecError

CONFIG = Path(__file__).parent / "operations.toml"
METHODS = ("get", "head", "post", "put", "patch", "delete")
RECIPES_PREFIX = "/v2/consumer/recipes/"
JSON_PATCH = "application/json-patch+json"
_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Param:
    """One path or query parameter."""

    wire: str
    attr: str
    kind: str
    annotation: str
    default: Any
    description: str


@dataclass(frozen=True)
class Body:
    """A request body: the model (or builtin) it is checked against, and its media type."""

    model: str
    content_type: str
    annotation: str
    attr: str


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, as the templates render it."""

    operation_id: str
    method: str
    path: str
    path_params: tuple[Param, ...]
    query_params: tuple[Param, ...]
    body: Body | None
    response: str
    response_model: str | None
    returns: str
    may_charge: bool
    idempotent: bool
    attribute: str
    facade: bool
    summary: str

    @property
    def constant(self) -> str:
        """The private module constant that holds this operation's descriptor."""
        return "_" + snake(self.operation_id).upper()

    @property
    def is_recipe(self) -> bool:
        """A recipe lives under `client.recipes`."""
        return self.attribute.startswith("recipes.")

    @property
    def method_name(self) -> str:
        """The last part of the attribute: the method's own name."""
        return self.attribute.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Config:
    """operations.toml: names, hand-written methods, charging, free and retry-safe operations."""

    names: dict[str, dict[str, Any]]
    charges: frozenset[str]
    retry_safe: frozenset[str]
    free: frozenset[str]


def load_config(path: Path = CONFIG) -> Config:
    """Read operations.toml."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return Config(
        data.get("names", {}),
        frozenset(data["charges"]),
        frozenset(data["retry_safe"]),
        frozenset(data["free"]),
    )


def needs_charge_decision(method: str, path: str) -> bool:
    """Whether an operation must be listed as `charges` or `free` in operations.toml:
    every one that changes something, except a recipe (which always may charge). Methods
    the generator leaves out (OPTIONS, TRACE) need none."""
    changes = method.lower() in METHODS and method.upper() not in ("GET", "HEAD")
    return changes and not path.startswith(RECIPES_PREFIX)


def snake(name: str) -> str:
    """`textToImage` -> `text_to_image`, `batchOCRSafety` -> `batch_ocr_safety`."""
    text = _WORDS.sub("_", name).replace("-", "_").lower()
    return text + "_" if keyword.iskeyword(text) else text


def _ref(schema: Any) -> str | None:
    if isinstance(schema, dict) and "$ref" in schema:
        return str(schema["$ref"]).removeprefix(REF_PREFIX)
    return None


def _text(value: Any) -> str:
    text = " ".join(str(value or "").replace("///", " ").split())
    return text.replace('"""', "'''").replace("\\", "\\\\")


def _param(raw: dict[str, Any]) -> Param | None:
    """A path or query parameter; headers (``Accept``) are left to hand-written methods."""
    if raw.get("in") not in ("path", "query"):
        return None
    schema = raw.get("schema", {})
    ref = _ref(schema)
    kind, annotation = "str", "str"
    if ref is not None:
        kind, annotation = "enum", f"{ref} | str"
    elif schema.get("type") == "integer":
        kind, annotation = "int", "int"
    elif schema.get("type") == "boolean":
        kind, annotation = "bool", "bool"
    elif schema.get("type") == "array":
        kind, annotation = "array", "Sequence[str]"
    elif schema.get("format") == "date-time":
        kind, annotation = "datetime", "dt.datetime | str"
    return Param(
        wire=raw["name"],
        attr=snake(raw["name"]),
        kind=kind,
        annotation=annotation,
        default=schema.get("default"),
        description=_text(raw.get("description")),
    )


def _body(raw: dict[str, Any] | None, recipe: bool) -> Body | None:
    if not raw:
        return None
    content = raw.get("content", {})
    media = JSON_PATCH if JSON_PATCH in content else "application/json"
    schema = content.get(media) or next(iter(content.values()))
    schema = schema.get("schema", {})
    ref = _ref(schema)
    attr = "input" if recipe else "body"
    if ref == "JsonPatchDocument":
        return Body(ref, media, "Sequence[JsonPatchOperation | Mapping[str, Any]]", "patch")
    if ref is not None:
        return Body(ref, media, f"{ref} | Mapping[str, Any]", attr)
    kinds = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
    builtin = kinds.get(schema.get("type"))
    if builtin is None:
        raise UnsupportedSpecError(f"request body {schema!r} has no usable type")
    return Body(builtin, media, builtin, attr)


def _response(method: str, responses: dict[str, Any]) -> tuple[str, str | None, str]:
    """What a 2xx answer holds: ("json", model, type), ("empty", None, "None") or bytes."""
    documented = [status for status in sorted(responses) if status.startswith("2")]
    for status in documented:
        content = responses[status].get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is not None:
            ref = _ref(schema)
            if ref is None:
                raise UnsupportedSpecError(f"response {schema!r} is not a named schema")
            return "json", ref, ref
        if status != "204":
            return "bytes", None, "bytes"
    if not documented and method == "GET":
        return "bytes", None, "bytes"  # e.g. GetBlockedContent documents only its errors
    return "empty", None, "None"


def _attribute(op_id: str, path: str, config: Config) -> tuple[str, bool]:
    named = config.names.get(op_id)
    if named is not None:
        return str(named["attribute"]), bool(named.get("facade", False))
    if path.startswith(RECIPES_PREFIX):
        return "recipes." + snake(path.removeprefix(RECIPES_PREFIX)), False
    return snake(op_id), False


def _summary(op: dict[str, Any], op_id: str) -> str:
    summary = _text(op.get("summary"))
    description = _text(op.get("description"))
    if description and description not in summary:
        joined = summary if not summary or summary.endswith((".", ":", "!", "?")) else summary + "."
        summary = f"{joined} {description}".strip()
    return summary or op_id


def parameters(item: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    """An operation's parameters: its own, and those of its path item it does not
    redefine (OpenAPI lets a path item declare parameters for all its operations)."""
    own = [raw for raw in op.get("parameters", []) if isinstance(raw, dict)]
    keys = {(raw.get("in"), raw.get("name")) for raw in own}
    shared = [raw for raw in item.get("parameters", []) if isinstance(raw, dict)]
    return own + [raw for raw in shared if (raw.get("in"), raw.get("name")) not in keys]


def _check_names(op: Operation) -> None:
    """The method, its arguments and its constant must be valid, distinct Python names: a
    query parameter called `self`, `1st`, or `Force` beside `force`, generated a module
    that does not compile."""
    names = [p.attr for p in (*op.path_params, *op.query_params)]
    names += [op.body.attr] if op.body else []
    wrong = [n for n in names if not n.isidentifier() or keyword.iskeyword(n)]
    wrong += [n for n in names if names.count(n) > 1 or n == "self"]
    wrong += [n for n in (op.method_name, op.constant) if not n.isidentifier()]
    if wrong:
        raise UnsupportedSpecError(
            f"{op.operation_id} ({op.method} {op.path}): {', '.join(sorted(set(wrong)))} would "
            "not be valid, distinct Python names for its method and arguments (rename them "
            "with a patch in codegen/patches.toml, or the method in codegen/operations.toml)"
        )


def operation(
    path: str, method: str, op: dict[str, Any], config: Config, item: dict[str, Any] | None = None
) -> Operation:
    """One operation record from its path item entry (`item`: the whole path item)."""
    if not op.get("operationId"):
        # Client methods, OPERATIONS and operations.toml are keyed on it.
        raise UnsupportedSpecError(
            f"{method.upper()} {path} has no operationId (add one with a patch in "
            "codegen/patches.toml)"
        )
    op_id = str(op["operationId"])
    recipe = path.startswith(RECIPES_PREFIX)
    raw_params = parameters(item or {}, op)
    params = [p for p in (_param(raw) for raw in raw_params) if p is not None]
    path_params = {p.wire: p for p in params if p.wire in _PLACEHOLDER.findall(path)}
    missing = [name for name in _PLACEHOLDER.findall(path) if name not in path_params]
    if missing:
        raise UnsupportedSpecError(f"{op_id} ({path}): no path parameter named {missing}")
    ordered = tuple(path_params[name] for name in _PLACEHOLDER.findall(path))
    query = tuple(p for p in params if p.wire not in path_params)
    response, model, returns = _response(method.upper(), op.get("responses", {}))
    attribute, facade = _attribute(op_id, path, config)
    upper = method.upper()
    safe = upper in ("GET", "HEAD", "PUT", "DELETE") or op_id in config.retry_safe
    record = Operation(
        operation_id=op_id,
        method=upper,
        path=path,
        path_params=ordered,
        query_params=query,
        body=_body(op.get("requestBody"), recipe),
        response=response,
        response_model=model,
        returns=returns,
        may_charge=recipe or op_id in config.charges,
        idempotent=safe,
        attribute=attribute,
        facade=facade,
        summary=_summary(op, op_id),
    )
    _check_names(record)
    return record


def build_operations(spec: dict[str, Any], config: Config | None = None) -> tuple[Operation, ...]:
    """Every operation of the spec, sorted by operationId; names must be unique."""
    config = config or load_config()
    found = [
        operation(path, method, op, config, item)
        for path, item in spec.get("paths", {}).items()
        for method, op in item.items()
        if method in METHODS
    ]
    found.sort(key=lambda o: (o.operation_id, o.path, o.method))
    for first, second in itertools.pairwise(found):
        if first.operation_id == second.operation_id:
            raise UnsupportedSpecError(
                f"{first.operation_id} is the operationId of {first.method} {first.path} and "
                f"{second.method} {second.path}: one client method cannot call both (rename "
                "one with a patch in codegen/patches.toml)"
            )
    seen: dict[str, str] = {}
    for op in found:
        other = seen.setdefault(op.attribute, op.operation_id)
        if other != op.operation_id:
            raise UnsupportedSpecError(
                f"{op.operation_id} and {other} both map to {op.attribute!r}: give one "
                "another attribute in codegen/operations.toml [names]"
            )
    present = {op.operation_id for op in found}
    _check_charge_decisions(found, config)
    # A stale `charges` entry would silently drop the idempotency key of a paid call.
    for section, listed in (
        ("names", set(config.names)),
        ("charges", config.charges),
        ("free", config.free),
        ("retry_safe", config.retry_safe),
    ):
        unknown = listed - present
        if unknown:
            raise UnsupportedSpecError(
                f"operations.toml {section} lists operations the spec lacks: {sorted(unknown)}"
                " (renamed or removed: update codegen/operations.toml)"
            )
    return tuple(found)


def _check_charge_decisions(found: list[Operation], config: Config) -> None:
    """Every operation that changes something is said to charge or not, once."""
    both = sorted(config.charges & config.free)
    if both:
        raise UnsupportedSpecError(f"operations.toml lists {both} in both `charges` and `free`")
    undecided = sorted(
        op.operation_id
        for op in found
        if needs_charge_decision(op.method, op.path)
        and op.operation_id not in config.charges | config.free
    )
    if undecided:
        raise UnsupportedSpecError(
            f"new operations that change something: {undecided}. Say in "
            "codegen/operations.toml whether each may spend Buzz (`charges`: it gets an "
            "idempotency key and its errors say how to retry safely) or not (`free`)"
        )


def model_names(operations: tuple[Operation, ...]) -> list[str]:
    """The generated models the rendered signatures refer to."""
    names: set[str] = set()
    for op in operations:
        if op.response_model:
            names.add(op.response_model)
        if op.body is not None and op.body.model not in ("str", "int", "float", "bool"):
            names.add("JsonPatchOperation" if op.body.attr == "patch" else op.body.model)
        names.update(p.annotation.split(" ")[0] for p in op.query_params if p.kind == "enum")
    return sorted(names)


def missing_methods(mapping: dict[str, str], clients: tuple[object, ...]) -> list[str]:
    """`operationId: Client.attr` for every mapped attribute a client instance lacks."""
    missing = []
    for op_id, attribute in sorted(mapping.items()):
        for client in clients:
            owner: Any = client
            for part in attribute.split("."):
                owner = getattr(owner, part, None)
            if not callable(owner):
                missing.append(f"{op_id}: {type(client).__name__}.{attribute}")
    return missing


def client_gaps(mapping: dict[str, str]) -> list[str]:
    """Operations the installed clients cannot perform (run after generated/ is current)."""
    from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient

    sync = OrchestratorClient("codegen-check", base_url="http://127.0.0.1")
    try:
        clients = (sync, AsyncOrchestratorClient("codegen-check", base_url="http://127.0.0.1"))
        return missing_methods(mapping, clients)
    finally:
        sync.close()

"""Every exception the SDK raises on purpose is a CivitaiError: an AST guard.

Walks every ``raise X(...)`` / ``raise X`` in ``src/civitai_app_sdk`` whose ``X`` names a
class (a builtin, or one the module imports or defines) and fails on any class that is
not a :class:`CivitaiError`, unless the spot is in :data:`ALLOWED` with the reason it
never reaches a caller. ``raise exc`` of a variable (a re-raise) is not judged.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

from civitai_app_sdk.errors import CivitaiError

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "civitai_app_sdk"

ALLOWED: dict[tuple[str, str], str] = {
    # (module, class raised): why it never reaches a caller as itself
    ("_lazy", "AttributeError"): "module __getattr__: Python's protocol for a missing name",
    ("__init__", "AttributeError"): "module __getattr__: Python's protocol for a missing name",
    ("web.__init__", "AttributeError"): "module __getattr__: Python's protocol",
    ("orchestrator.api", "NotImplementedError"): "abstract method of an internal base",
    ("cli._credentials", "NotImplementedError"): "abstract method of an internal base",
    ("_limits", "ValueError"): "BodyBuffer is internal; its limits are the SDK's own",
    ("_exchange", "RetryPastDeadline"): "internal signal, turned into the caller's error",
    ("oauth.tokens", "ValueError"): "caught in TokenSet.from_* and re-raised as ours",
    ("oauth.device", "ValueError"): "caught in DeviceAuthorization.from_response (OAuthError)",
    ("blocks.schema", "ValueError"): "caught three lines below, with the OSError",
    ("blocks.urls", "UnicodeError"): "caught in _parse_domain, which raises _Malformed",
    ("blocks.urls", "_Malformed"): "caught by the URL functions, which return None/False",
    ("blocks.redos", "_TooComplex"): "caught inside the ReDoS check",
    ("blocks.jsregex", "JsRegexSyntaxError"): "caught where a block pattern is compiled",
    ("cli.__init__", "TypeError"): "a packaging bug in the CLI's own lazy command table",
    ("cli._download", "LookupError"): "caught by the download command",
    ("cli._sizes", "ValueError"): "read by a click type, which turns it into a usage error",
    ("cli._config", "ValueError"): "caught and re-raised as ConfigError",
    ("cli.block", "ValueError"): "caught and turned into a usage error",
    ("cli._files", "ValueError"): "caught and turned into a usage error",
    ("cli._json", "NestedTooDeeplyError"): "caught by the CLI's JSON readers",
    ("cli.*", "CliError"): "the CLI's exit path: click prints it and exits with its code",
    ("cli.*", "CredentialsWriteError"): "a CliError (see above)",
    ("cli._console", "BrokenPipeError"): "a closed stdout, as click.echo raises it",
    ("cli._startup", "KeyboardInterrupt"): "SIGTERM handled as Ctrl-C",
    ("cli._startup", "ImportError"): "import hook keeping httpx's CLI unloaded",
    ("cli._files", "FileExistsError"): "an OSError the download command reports",
    ("local.*", "BadRequestError"): "the local server's own 400, turned into a response",
    ("local.bodies", "BodyTooLargeError"): "the local server's own 413, turned into a response",
    ("local.workflows", "LookupError"): "the local server's own 404, turned into a response",
    ("local.buzz", "InsufficientBuzzError"): "the local server's own 403, a response",
    ("local.faults", "ConnectionDropped"): "drops the local server's connection on purpose",
    ("local.media", "ValueError"): "blob kinds come from the local server's own templates",
}


def _allowed(module: str, name: str) -> bool:
    package = module.split(".")[0]
    return (module, name) in ALLOWED or (f"{package}.*", name) in ALLOWED


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _raised_name(node: ast.Raise) -> str | None:
    """The class name of ``raise Name(...)`` / ``raise Name``; ``None`` for anything else."""
    target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return target.id if isinstance(target, ast.Name) else None


def _offences() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        dotted = "civitai_app_sdk" + ("" if module == "__init__" else f".{module}")
        namespace = vars(importlib.import_module(dotted.removesuffix(".__init__")))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = _raised_name(node) if isinstance(node, ast.Raise) else None
            if name is None:
                continue
            kind = namespace.get(name, getattr(builtins, name, None))
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):
                continue  # a variable, a function returning an error: not judged here
            if issubclass(kind, CivitaiError) or _allowed(module, name):
                continue
            found.append(f"{module}:{node.lineno}: raise {name}")
    return found


def test_every_raise_is_a_civitai_error_or_allowed() -> None:
    assert _offences() == []


def test_every_allowed_spot_still_exists() -> None:
    """An allow-list entry whose raise is gone is removed too (it would hide a new one)."""
    used = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and (name := _raised_name(node)):
                used.add((_module_name(path), name))
    packages = {(module.split(".")[0] + ".*", name) for module, name in used}
    assert set(ALLOWED) - used - packages == set()

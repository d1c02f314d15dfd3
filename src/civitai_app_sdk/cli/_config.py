"""Where the CLI's settings come from: flags, the environment, ./.env, the config directory.

Precedence, highest first: command-line flags, the process environment, a ``.env`` file
in the working directory, then ``config.json`` (settings) and ``credentials.json`` (the
token stored by ``login``) in the config directory. ``CIVITAI_CONFIG_DIR`` overrides
the config directory (tests use it to stay away from the real one).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import attrs

from civitai_app_sdk._transport import DEFAULT_BASE_URL

ENV_TOKEN: Final = "CIVITAI_API_TOKEN"
ENV_API_URL: Final = "CIVITAI_API_URL"
ENV_CLIENT_ID: Final = "CIVITAI_CLIENT_ID"
ENV_AUTH_URL: Final = "CIVITAI_AUTH_URL"
ENV_CONFIG_DIR: Final = "CIVITAI_CONFIG_DIR"
CONFIG_FILE: Final = "config.json"
CREDENTIALS_FILE: Final = "credentials.json"

_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class ConfigError(ValueError):
    """A settings file that cannot be read; the message names the file and line."""


def _double_quoted(body: str, where: str) -> str:
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if escaped not in _ESCAPES:
                raise ConfigError(f"{where}: unknown escape \\{escaped}")
            out.append(_ESCAPES[escaped])
        elif char == '"':
            raise ConfigError(f'{where}: unescaped " inside a double-quoted value')
        else:
            out.append(char)
    return "".join(out)


def _value(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw[:1] in {'"', "'"}:
        quote = raw[0]
        end = raw.find(quote, 1) if quote == "'" else _closing_quote(raw)
        if end < 0:
            raise ConfigError(f"{where}: unterminated {quote}-quoted value")
        rest = raw[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise ConfigError(f"{where}: text after the closing quote")
        body = raw[1:end]
        return body if quote == "'" else _double_quoted(body, where)
    comment = re.search(r"\s#", raw)
    return (raw[: comment.start()] if comment else raw).strip()


def _closing_quote(raw: str) -> int:
    index = 1
    while index < len(raw):
        if raw[index] == "\\":
            index += 2
            continue
        if raw[index] == '"':
            return index
        index += 1
    return -1


def parse_dotenv(text: str, *, name: str = ".env") -> dict[str, str]:
    """Parse ``KEY=value`` lines; ``ConfigError`` on anything else.

    Allowed: blank lines, ``#`` comments, an ``export`` prefix, bare values (a
    `` #`` starts a comment), ``'single'`` (literal) and ``"double"`` quoted values
    (``\\n \\t \\r \\" \\\\ \\$`` escapes). Values are never expanded; one line per entry.
    """
    result: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{name} line {number}"
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, sep, raw = stripped.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise ConfigError(f"{where}: expected KEY=value")
        result[key] = _value(raw, where)
    return result


def config_dir(environ: Mapping[str, str]) -> Path:
    """The CLI's config directory (``CIVITAI_CONFIG_DIR`` or the platform's user dir)."""
    override = environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("civitai-orch", appauthor=False))


def _read_json_object(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return data


@attrs.frozen
class Settings:
    """Resolved settings. ``token`` is ``None`` when the stored login should be used."""

    api_url: str
    token: str | None = attrs.field(repr=lambda v: "None" if v is None else "'***'")
    token_source: str
    client_id: str | None
    auth_url: str | None
    directory: Path


def _pick(
    flag: str | None,
    key: str,
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    file: Mapping[str, object],
    file_key: str,
) -> tuple[str | None, str]:
    if flag:
        return flag, "flag"
    if environ.get(key):
        return environ[key], "environment"
    if dotenv.get(key):
        return dotenv[key], ".env"
    value = file.get(file_key)
    if isinstance(value, str) and value:
        return value, CONFIG_FILE
    return None, "none"


def load_settings(
    *,
    token: str | None = None,
    api_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve the settings from flags, environment, ``./.env`` and the config dir."""
    env = os.environ if environ is None else environ
    dotenv_path = (cwd or Path.cwd()) / ".env"
    try:
        dotenv = parse_dotenv(dotenv_path.read_text(encoding="utf-8"), name=str(dotenv_path))
    except FileNotFoundError:
        dotenv = {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {dotenv_path}: {exc}") from None
    directory = config_dir(env)
    file = _read_json_object(directory / CONFIG_FILE)
    url, _ = _pick(api_url, ENV_API_URL, env, dotenv, file, "api_url")
    found, source = _pick(token, ENV_TOKEN, env, dotenv, {}, "")
    client_id, _ = _pick(None, ENV_CLIENT_ID, env, dotenv, file, "client_id")
    auth_url, _ = _pick(None, ENV_AUTH_URL, env, dotenv, file, "auth_url")
    return Settings(
        api_url=(url or DEFAULT_BASE_URL).rstrip("/"),
        token=found,
        token_source=source if found else "login",
        client_id=client_id,
        auth_url=auth_url,
        directory=directory,
    )

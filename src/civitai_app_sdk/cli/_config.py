"""Where the CLI's settings come from: flags, the environment, ./.env, the config directory.

Precedence, highest first: command-line flags, the process environment, a ``.env`` file
in the working directory (read with python-dotenv), then ``config.json`` (settings) and
the login stored by ``civitai-orch login`` in the config directory.
``CIVITAI_CONFIG_DIR`` overrides the config directory (tests use it to stay away from
the real one).

A ``.env`` belongs to whatever repository the user happens to stand in, so its
``CIVITAI_API_URL`` is used only together with its own ``CIVITAI_API_TOKEN``: it can
never redirect a token from the environment or the stored login to another host.
Its ``CIVITAI_AUTH_URL`` is ignored: it would choose the server ``login`` signs in to.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

import attrs
import httpx

from civitai_app_sdk._transport import DEFAULT_BASE_URL
from civitai_app_sdk.errors import ConfigurationError

from ._json import parse_json

ENV_TOKEN: Final = "CIVITAI_API_TOKEN"
ENV_API_URL: Final = "CIVITAI_API_URL"
ENV_CLIENT_ID: Final = "CIVITAI_CLIENT_ID"
ENV_AUTH_URL: Final = "CIVITAI_AUTH_URL"
ENV_CONFIG_DIR: Final = "CIVITAI_CONFIG_DIR"
ENV_MAX_RETRIES: Final = "CIVITAI_MAX_RETRIES"
DEFAULT_RETRIES: Final = 3
CONFIG_FILE: Final = "config.json"
CREDENTIALS_FILE: Final = "credentials.json"
DOTENV: Final = ".env"


MAX_SETTINGS_FILE: Final = 1 << 20
"""Largest ``.env``, ``config.json`` or login file read (1 MiB; real ones are tiny)."""


class ConfigError(ConfigurationError):
    """A setting or settings file that cannot be used; the message names where it came from."""


def _not_a_settings_file(status: os.stat_result) -> str | None:
    """Why a file with ``status`` is no settings file, or ``None`` when it may be one."""
    try:
        stdin = os.fstat(0)
    except OSError:  # no standard input
        stdin = None
    same = stdin is not None and (status.st_dev, status.st_ino) == (stdin.st_dev, stdin.st_ino)
    if same and status.st_ino:  # (0 where the system has no inode numbers)
        return "it is this command's standard input (a link to /dev/stdin?), not a file"
    if stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode):
        return "it is a device, not a file"
    if not stat.S_ISREG(status.st_mode):
        return "it is not a regular file"
    return None


def read_small_text(path: Path) -> str:
    """``path``'s UTF-8 text, read no further than :data:`MAX_SETTINGS_FILE`.

    More is a ``ValueError``: a ``.env`` in a cloned repository can be a symlink to
    ``/dev/zero`` (git stores symlinks), which an unbounded read follows until memory
    runs out. Anything but a regular file is one too, refused before it is opened and
    again once open: a device (``/dev/tty`` would wait for the terminal), a named pipe
    (opening it waits for a writer), and the command's own standard input (a link to
    ``/dev/stdin`` would read what was piped in for the command, even a regular file).
    """
    why = _not_a_settings_file(os.stat(path))
    if why is not None:
        raise ValueError(why)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with open(fd, "rb") as handle:
        why = _not_a_settings_file(os.fstat(fd))  # it may have been swapped since
        if why is not None:
            raise ValueError(why)
        raw = handle.read(MAX_SETTINGS_FILE + 1)
    if len(raw) > MAX_SETTINGS_FILE:
        raise ValueError(f"larger than {MAX_SETTINGS_FILE >> 20} MiB, so not a settings file")
    return raw.decode("utf-8")


def warn(message: str) -> None:
    """A ``warning:`` line on stderr."""
    from ._output import note

    note(f"warning: {message}")


def read_dotenv(path: Path, *, on_warning: Callable[[str], None] = warn) -> dict[str, str]:
    """``KEY=value`` pairs of a ``.env`` file (python-dotenv syntax, nothing expanded).

    Quoted values may span lines. A line that cannot be parsed is skipped with a
    warning naming it, so it never stops a command that does not need the file.
    """
    from dotenv.parser import parse_stream

    try:
        bindings = list(parse_stream(io.StringIO(read_small_text(path))))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        on_warning(f"cannot read {path}: {exc}; it is ignored")
        return {}
    values: dict[str, str] = {}
    for binding in bindings:
        if binding.error:
            on_warning(f"{path} line {binding.original.line} is not KEY=value; it is ignored")
        elif binding.key is not None and binding.value is not None:
            values[binding.key] = binding.value
    return values


def config_dir(environ: Mapping[str, str]) -> Path:
    """The CLI's config directory (``CIVITAI_CONFIG_DIR`` or the platform's user dir)."""
    override = environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override)
    import platformdirs

    try:
        return Path(platformdirs.user_config_dir("civitai-orch", appauthor=False))
    except RuntimeError:  # no HOME and no passwd entry (an arbitrary container uid)
        raise ConfigError(
            "cannot find the home directory for the config folder: set HOME, or "
            f"{ENV_CONFIG_DIR} to a folder for the CLI's settings and login"
        ) from None


FILE_KEYS: Final = ("api_url", "auth_url", "client_id", "max_retries")
"""The settings ``config.json`` may hold: strings (``max_retries`` also a whole number)."""


def _read_json_object(path: Path) -> dict[str, object]:
    try:
        data = parse_json(read_small_text(path))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return data


def read_config_file(path: Path, *, on_warning: Callable[[str], None] = warn) -> dict[str, str]:
    """The settings in ``config.json`` as text.

    A value of the wrong type is an error naming it (ignoring it would quietly send
    the token to the default server); a key that is not a setting gets a warning.
    """
    settings: dict[str, str] = {}
    for key, value in _read_json_object(path).items():
        if key not in FILE_KEYS:
            known = ", ".join(FILE_KEYS)
            on_warning(f"{path}: {key!r} is not a setting and is ignored (settings: {known})")
        elif key == "max_retries" and type(value) is int:
            settings[key] = str(value)
        elif isinstance(value, str):
            settings[key] = value
        elif value is not None:
            kind = "a string or a whole number" if key == "max_retries" else "a string"
            raise ConfigError(f"{path}: {key!r} must be {kind}, not {json.dumps(value)}")
    return settings


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


def checked_url(url: str, source: str) -> str:
    """``url`` without trailing slashes; ``ConfigError`` unless it is an http(s) URL with
    no user name, password, query or fragment (the message never repeats a password)."""
    text = url.strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        parsed = None
    if parsed is not None and (parsed.userinfo or parsed.query or parsed.fragment):
        raise ConfigError(
            f"the API URL from the {source} must not carry a user name or password, a query "
            "or a fragment: give the API's root (for example https://orchestration.civitai.com)"
        )
    if not is_http_url(text):
        # `me:password@host` (no scheme) parses without a user name, yet holds a password
        shown = repr(url) if "@" not in url else "(not repeated: it holds an @)"
        raise ConfigError(
            f"the API URL from the {source} is not an http(s) URL with a host: {shown} "
            "(for example https://orchestration.civitai.com)"
        )
    return text.rstrip("/")


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased, default ports left out."""
    parsed = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    port = f":{parsed.port}" if parsed.port not in (None, default) else ""
    return f"{parsed.scheme}://{parsed.host.lower()}{port}"


def parse_retries(value: str, source: str) -> int:
    """A ``CIVITAI_MAX_RETRIES`` value: a whole number from 0 to 10."""
    text = value.strip()
    if not text.isdecimal() or int(text) > 10:
        raise ConfigError(
            f"{ENV_MAX_RETRIES} from the {source} must be a whole number from 0 to 10, "
            f"not {value!r}"
        )
    return int(text)


@attrs.frozen
class Settings:
    """Resolved settings. ``token`` is ``None`` when the stored login should be used."""

    api_url: str
    token: str | None = attrs.field(repr=lambda v: "None" if v is None else "'***'")
    token_source: str
    client_id: str | None
    auth_url: str | None
    directory: Path
    max_retries: int = DEFAULT_RETRIES
    api_url_source: str = "default"


def _pick(
    flag: str | None,
    key: str,
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    file: Mapping[str, str],
    file_key: str,
) -> tuple[str | None, str]:
    if flag:
        return flag, "flag"
    if environ.get(key):
        return environ[key], "environment"
    if dotenv.get(key):
        return dotenv[key], DOTENV
    if file.get(file_key):
        return file[file_key], CONFIG_FILE
    return None, "none"


def load_settings(
    *,
    token: str | None = None,
    api_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    on_warning: Callable[[str], None] = warn,
) -> Settings:
    """Resolve the settings from flags, environment, ``./.env`` and the config dir."""
    env = os.environ if environ is None else environ
    dotenv = read_dotenv((cwd or Path.cwd()) / DOTENV, on_warning=on_warning)
    directory = config_dir(env)
    file = read_config_file(directory / CONFIG_FILE, on_warning=on_warning)
    found, token_source = _pick(token, ENV_TOKEN, env, dotenv, {}, "")
    url, url_source = _pick(api_url, ENV_API_URL, env, dotenv, file, "api_url")
    if url_source == DOTENV and token_source != DOTENV:
        on_warning(
            f"ignoring {ENV_API_URL} from ./{DOTENV}: it is used only with a "
            f"{ENV_TOKEN} from the same file, and the token comes from the "
            f"{'stored login' if found is None else token_source}"
        )
        url, url_source = _pick(None, ENV_API_URL, {}, {}, file, "api_url")
    retries, retries_source = _pick(None, ENV_MAX_RETRIES, env, dotenv, file, "max_retries")
    client_id, _ = _pick(None, ENV_CLIENT_ID, env, dotenv, file, "client_id")
    auth_url, auth_source = _pick(None, ENV_AUTH_URL, env, dotenv, file, "auth_url")
    if auth_source == DOTENV:
        on_warning(
            f"ignoring {ENV_AUTH_URL} from ./{DOTENV}: a file in the working directory "
            "does not choose the server you sign in to (use --auth-url or the environment)"
        )
        auth_url, _ = _pick(None, ENV_AUTH_URL, {}, {}, file, "auth_url")
    return Settings(
        api_url=checked_url(url, "--api-url flag" if url_source == "flag" else url_source)
        if url
        else DEFAULT_BASE_URL.rstrip("/"),
        token=found,
        token_source=token_source if found else "login",
        client_id=client_id,
        auth_url=auth_url,
        directory=directory,
        max_retries=DEFAULT_RETRIES if retries is None else parse_retries(retries, retries_source),
        api_url_source=url_source if url else "default",
    )

"""The token and client a command runs with, built from the resolved settings."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Final

import click

from civitai_app_sdk._transport import DEFAULT_BASE_URL

from ._config import (
    DEFAULT_RETRIES,
    ENV_MAX_RETRIES,
    Settings,
    load_settings,
    origin,
    parse_retries,
)
from ._errors import LOGIN_HINT, STORED_LOGIN
from ._exit import CliError, ExitCode
from ._shell import option

_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+")

if TYPE_CHECKING:
    from civitai_app_sdk.oauth import RefreshingTokenProvider
    from civitai_app_sdk.orchestrator import OrchestratorClient


def header_safe(token: str) -> bool:
    """Whether ``token`` can go in an ``Authorization`` header (printable ASCII, no spaces)."""
    return _HEADER_SAFE.fullmatch(token) is not None


def _checked(token: str, source: str) -> str:
    if not header_safe(token):
        raise CliError(
            f"the API token from the {source} contains spaces, line breaks "
            "or other characters a token cannot have: check how it was pasted",
            ExitCode.AUTH,
        )
    return token


def _remember_stored_login(where: str) -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[STORED_LOGIN] = where


def resolve_token(settings: Settings) -> str | RefreshingTokenProvider:
    """The flag/env/.env token, else the stored login (refreshed when it is OAuth).

    A token that cannot be sent in a header is refused here, with where it came from,
    rather than failing inside the request. A stored login is used only with the API
    it was made for (a login stored before logins recorded one counts as production's).
    """
    if settings.token:
        return _checked(settings.token, settings.token_source)
    from ._keyring import CredentialStore

    store = CredentialStore(settings.directory)
    stored = store.read()
    if stored is None:
        raise CliError(f"no API token: {LOGIN_HINT}", ExitCode.AUTH)
    bound, wanted = origin(stored.api_url or DEFAULT_BASE_URL), origin(settings.api_url)
    if bound != wanted:
        login = option("--api-url", settings.api_url)
        raise CliError(
            f"the stored login belongs to another server ({bound}), not {wanted}: sign in "
            f"for this one with `civitai-orch login {login}`, "
            "or set CIVITAI_API_TOKEN",
            ExitCode.AUTH,
        )
    _remember_stored_login(bound)
    if stored.client_id is None or stored.tokens.refresh_token is None:
        return _checked(stored.tokens.access_token, "stored login")
    from civitai_app_sdk.oauth import DEFAULT_ISSUER, OAuthClient, RefreshingTokenProvider

    oauth = OAuthClient(stored.client_id, base_url=stored.auth_url or DEFAULT_ISSUER)
    return RefreshingTokenProvider(store.only(stored), client=oauth)


def max_retries() -> int:
    """Retries after the first attempt for safe requests (``CIVITAI_MAX_RETRIES``).

    A value that is not a whole number from 0 to 10 is a usage error, not ignored.
    """
    retries = os.environ.get(ENV_MAX_RETRIES)
    return DEFAULT_RETRIES if not retries else parse_retries(retries, "environment")


def open_client(token: str | None, api_url: str | None) -> OrchestratorClient:
    """An orchestrator client for the command's ``--token``/``--api-url`` and settings."""
    return client_for(load_settings(token=token, api_url=api_url))


def client_for(settings: Settings) -> OrchestratorClient:
    """An orchestrator client for settings the command has already resolved."""
    from civitai_app_sdk.orchestrator import OrchestratorClient

    return OrchestratorClient(
        resolve_token(settings), base_url=settings.api_url, max_retries=settings.max_retries
    )

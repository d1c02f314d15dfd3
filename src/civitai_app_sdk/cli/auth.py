"""`civitai-orch login` and `logout`: keep a token in the user's config directory."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from civitai_app_sdk.oauth.tokens import TokenSet
from civitai_app_sdk.scopes import TokenScopePresets, scopes_from_bitmask

from ._config import load_settings
from ._credentials import NEVER_EXPIRES, CredentialsFile, StoredLogin
from ._exit import CliError, ExitCode
from ._options import json_option
from ._output import emit_json, note, stdout
from ._session import header_safe


def _read_pasted_token() -> str:
    if sys.stdin.isatty():
        token = click.prompt("API key", hide_input=True, err=True)
    else:
        token = sys.stdin.readline()
    token = str(token).strip()
    if not header_safe(token):
        raise CliError(
            "no token on standard input (give one token: one line of printable ASCII, no spaces)",
            ExitCode.USAGE,
        )
    return token


def _device_login(client_id: str, auth_url: str | None, scope: int, timeout: float) -> StoredLogin:
    from civitai_app_sdk.oauth import DEFAULT_ISSUER, OAuthClient

    issuer = auth_url or DEFAULT_ISSUER
    with OAuthClient(client_id, base_url=issuer) as client:
        grant = client.start_device_authorization(scope)
        link = grant.verification_uri_complete or grant.verification_uri
        note(f"Open {link} and enter the code {grant.user_code}")
        note("Waiting for approval…")
        tokens = client.wait_for_device_token(grant, max_wait=timeout)
    return StoredLogin(tokens, client_id, issuer)


@click.command()
@click.option(
    "--with-token",
    is_flag=True,
    help="Read an API key or token from standard input instead of signing in.",
)
@click.option("--client-id", metavar="ID", help="OAuth client id (default: CIVITAI_CLIENT_ID).")
@click.option("--auth-url", metavar="URL", help="OAuth server (default: https://auth.civitai.com).")
@click.option(
    "--scope",
    "scope",
    type=int,
    default=int(TokenScopePresets.AIServices),
    show_default=True,
    help="Scope bitmask to ask for (see `civitai-orch scopes`).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=900,
    show_default=True,
    help="Seconds to wait for approval.",
)
@json_option
def login(
    with_token: bool,
    client_id: str | None,
    auth_url: str | None,
    scope: int,
    timeout: float,
    as_json: bool,
) -> None:
    """Sign in with the OAuth device flow, or store an API key with --with-token.

    The token is saved in the config directory (CIVITAI_CONFIG_DIR overrides it),
    readable by you only, and used when no CIVITAI_API_TOKEN is set.
    """
    settings = load_settings()
    if with_token:
        stored = StoredLogin(TokenSet(access_token=_read_pasted_token(), expires_at=NEVER_EXPIRES))
    else:
        client_id = client_id or settings.client_id
        if not client_id:
            raise CliError(
                "signing in needs an OAuth client id with the device grant: pass --client-id, "
                "set CIVITAI_CLIENT_ID, or store an API key with `login --with-token`",
                ExitCode.USAGE,
            )
        stored = _device_login(client_id, auth_url or settings.auth_url, scope, timeout)
    file = CredentialsFile(settings.directory)
    file.write(stored)
    tokens = stored.tokens
    expires = (
        None
        if tokens.expires_at >= NEVER_EXPIRES
        else datetime.fromtimestamp(tokens.expires_at, UTC).isoformat()
    )
    if as_json:
        emit_json(
            {
                "path": str(file.path),
                "kind": "oauth" if stored.client_id else "apiKey",
                "scopes": scopes_from_bitmask(int(tokens.scope)),
                "expiresAt": expires,
            }
        )
        return
    stdout().print(f"Signed in. Token saved to {file.path}", markup=False)


@click.command()
@json_option
def logout(as_json: bool) -> None:
    """Delete the token saved by `login` (the environment and ./.env are left alone)."""
    settings = load_settings()
    file = CredentialsFile(settings.directory)
    removed = file.delete()
    if as_json:
        emit_json({"removed": removed, "path": str(file.path)})
        return
    stdout().print("Signed out." if removed else "Not signed in; nothing to remove.")
    if settings.token:
        note(f"Note: a token is still set by the {settings.token_source} (CIVITAI_API_TOKEN).")

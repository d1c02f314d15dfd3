"""`civitai-orch login` and `logout`: keep a token in the OS keyring or the config dir.

A login is checked before it is kept (``/api/v1/me`` names the account) and bound to
the API it was made for: the CLI never sends it anywhere else.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import click
import httpx

from civitai_app_sdk._loopback import is_loopback
from civitai_app_sdk._transport import DEFAULT_BASE_URL
from civitai_app_sdk.errors import CivitaiError
from civitai_app_sdk.oauth.tokens import TokenSet
from civitai_app_sdk.scopes import TokenScopePresets, scopes_from_bitmask

from ._config import ConfigError, Settings, checked_url, load_settings
from ._credentials import NEVER_EXPIRES, CredentialsWriteError, StoredLogin
from ._exit import CliError, ExitCode
from ._keyring import CredentialStore
from ._options import finite, json_option
from ._output import emit_json, note, stdout
from ._session import header_safe

if TYPE_CHECKING:
    from civitai_app_sdk.oauth import CivitaiUser


_MAX_TOKEN: Final = 16384
"""Longest token read from standard input (an API key is 32 characters, a JWT a few KB)."""
_LOCK_WAIT: Final = 60.0
"""Seconds ``login``/``logout`` wait for a refresh by another command to end."""


@contextlib.contextmanager
def _no_refresh_running(store: CredentialStore) -> Iterator[None]:
    """Hold the login's refresh lock: a refresh in flight ends (and saves) first, so
    it cannot overwrite a new login or bring back one just removed."""
    lock = store.refresh_lock()
    try:
        taken = lock.acquire(_LOCK_WAIT)
    except CredentialsWriteError:  # no lock file can be made there: nor can a refresh save
        yield
        return
    if not taken:
        raise CliError(
            "another civitai-orch command is refreshing the stored login and has not "
            "finished; try again",
            ExitCode.ERROR,
        )
    try:
        yield
    finally:
        lock.release()


def _read_pasted_token() -> str:
    if sys.stdin.isatty():
        token = click.prompt("API key", hide_input=True, err=True)
    else:  # a bounded read: `< /dev/zero` or a piped file has no line end to stop at
        token = sys.stdin.readline(_MAX_TOKEN + 1)
    token = str(token).strip()
    if len(token) > _MAX_TOKEN or not header_safe(token):
        raise CliError(
            "no token on standard input (give one token: one line of printable ASCII, no spaces)",
            ExitCode.USAGE,
        )
    return token


def site_for(api_url: str) -> str:
    """The site answering ``/api/v1/me`` for tokens of ``api_url``.

    civitai.com for any real orchestrator; the local stand-in (a loopback API) serves
    it itself.
    """
    from civitai_app_sdk._loopback import is_loopback
    from civitai_app_sdk.oauth import DEFAULT_SITE_URL

    return api_url if is_loopback(httpx.URL(api_url).host or "") else DEFAULT_SITE_URL


def _whoami(token: str, site_url: str) -> CivitaiUser:
    """The account behind ``token``; a refused token is an auth error."""
    from civitai_app_sdk.oauth import fetch_me
    from civitai_app_sdk.oauth.errors import OAuthError

    try:
        return fetch_me(token, site_url=site_url)
    except OAuthError as exc:
        raise CliError(
            f"{site_url} refused the key ({str(exc).rstrip('. ')}); it was not saved: "
            "check the key, or create one at https://civitai.com/user/account",
            ExitCode.AUTH,
        ) from None


def _device_login(
    client_id: str, auth_url: str | None, api_url: str, scope: int, timeout: float
) -> tuple[StoredLogin, CivitaiUser | None]:
    from civitai_app_sdk.oauth import DEFAULT_ISSUER, OAuthClient

    issuer = auth_url or DEFAULT_ISSUER
    site = site_for(api_url) if issuer == DEFAULT_ISSUER else issuer
    with OAuthClient(client_id, base_url=issuer, site_url=site) as client:
        grant = client.start_device_authorization(scope)
        link = grant.verification_uri_complete or grant.verification_uri
        note(f"Open {link} and enter the code {grant.user_code}")
        note("Waiting for approval…")
        tokens = client.wait_for_device_token(grant, max_wait=timeout)
        try:
            user: CivitaiUser | None = client.fetch_me(tokens.access_token)
        except CivitaiError:
            # a token without UserRead cannot say whose it is, and a lookup without an
            # answer must not drop tokens whose device code is spent: the name is optional
            user = None
    return StoredLogin(tokens, client_id, issuer, api_url), user


def _login_api_url(api_url: str | None, settings: Settings) -> str:
    """The API a new login is for: ``--api-url``, the environment, else the config file.

    A ``./.env`` URL is not used: a login from standard input is not that file's token.
    A plain-http URL off this machine is refused before anything is sent or stored: no
    token is ever sent there, so the login could never be used.
    """
    if api_url:
        target = checked_url(api_url, "--api-url flag")
    elif settings.api_url_source == ".env":
        target = DEFAULT_BASE_URL.rstrip("/")
    else:
        target = settings.api_url
    parsed = httpx.URL(target)
    if parsed.scheme != "https" and not is_loopback(parsed.host):
        raise CliError(
            f"a login for {target} could never be used: tokens go over plain http only "
            "to this machine; use the https URL",
            ExitCode.USAGE,
        )
    return target


@click.command()
@click.option(
    "--with-token",
    is_flag=True,
    help="Read an API key or token from standard input instead of signing in.",
)
@click.option("--client-id", metavar="ID", help="OAuth client id (default: CIVITAI_CLIENT_ID).")
@click.option("--auth-url", metavar="URL", help="OAuth server (default: https://auth.civitai.com).")
@click.option(
    "--api-url",
    metavar="URL",
    help="The API this login is for; it is sent nowhere else (default: CIVITAI_API_URL, "
    "else production).",
)
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
    callback=finite,
    default=900,
    show_default=True,
    help="Seconds to wait for approval.",
)
@json_option
def login(
    with_token: bool,
    client_id: str | None,
    auth_url: str | None,
    api_url: str | None,
    scope: int,
    timeout: float,
    as_json: bool,
) -> None:
    """Sign in with the OAuth device flow, or store an API key with --with-token.

    The key is checked first and the account it belongs to is shown. It is kept in the
    OS keyring, else in the config directory (CIVITAI_CONFIG_DIR overrides it) readable
    by you only, and used when no CIVITAI_API_TOKEN is set, for this API only.
    """
    settings = load_settings(api_url=api_url)
    target = _login_api_url(api_url, settings)
    if with_token:
        token = _read_pasted_token()
        user: CivitaiUser | None = _whoami(token, site_for(target))
        tokens = TokenSet(access_token=token, expires_at=NEVER_EXPIRES)
        stored = StoredLogin(tokens, api_url=target)
    else:
        client_id = client_id or settings.client_id
        if not client_id:
            raise CliError(
                "signing in needs an OAuth client id with the device grant: pass --client-id, "
                "set CIVITAI_CLIENT_ID, or store an API key with `login --with-token`",
                ExitCode.USAGE,
            )
        stored, user = _device_login(
            client_id, auth_url or settings.auth_url, target, scope, timeout
        )
    store = CredentialStore(settings.directory)
    with _no_refresh_running(store):
        where = store.write(stored)
    _report(stored, user, where, as_json)
    if settings.token:
        note(
            f"Note: CIVITAI_API_TOKEN from the {settings.token_source} is used before "
            "this login; unset it to use the login."
        )


def _report(stored: StoredLogin, user: CivitaiUser | None, where: str, as_json: bool) -> None:
    tokens = stored.tokens
    expires = (
        None
        if tokens.expires_at >= NEVER_EXPIRES
        else datetime.fromtimestamp(tokens.expires_at, UTC).isoformat()
    )
    scope = user.token_scope if user is not None and user.token_scope else int(tokens.scope)
    if as_json:
        emit_json(
            {
                "path": where,
                "kind": "oauth" if stored.client_id else "apiKey",
                "apiUrl": stored.api_url,
                "user": None if user is None else {"id": user.id, "username": user.username},
                "scopes": scopes_from_bitmask(int(scope)),
                "expiresAt": expires,
            }
        )
        return
    who = f" as {user.username or '?'} (user {user.id})" if user is not None else ""
    stdout().print(f"Signed in{who} for {stored.api_url}. Saved to {where}.", markup=False)


def _still_stored(store: CredentialStore) -> bool:
    """Whether a login is still there after ``delete`` (a keyring that refused)."""
    try:
        return store.read() is not None
    except ConfigError:  # an unreadable entry is still an entry
        return True


@click.command()
@json_option
def logout(as_json: bool) -> None:
    """Delete the login saved by `login`, from the OS keyring and the config directory.

    The environment and ./.env are left alone.
    """
    settings = load_settings()
    store = CredentialStore(settings.directory)
    with _no_refresh_running(store):
        removed = store.delete()
    if store.keyring_failed or _still_stored(store):
        raise CliError(
            "you may still be signed in: the OS keyring entry of civitai-orch could not be "
            "read or removed; unlock the keyring and run `civitai-orch logout` again, or "
            "delete that entry with your keyring tool",
            ExitCode.ERROR,
        )
    if as_json:
        emit_json({"removed": removed, "path": str(store.file.path)})
        return
    stdout().print("Signed out." if removed else "Not signed in; nothing to remove.")
    if settings.token:
        note(f"Note: a token is still set by the {settings.token_source} (CIVITAI_API_TOKEN).")

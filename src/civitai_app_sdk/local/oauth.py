"""The OAuth server's endpoints: authorize (consent page or auto-consent), token, revoke, device."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from civitai_app_sdk.scopes import ALL_SCOPES, TokenScope

from .auth import ACCESS_LIFETIME, same_secret
from .bodies import capped_body
from .consent import consent_page, scope_words
from .problems import oauth_error
from .state import Pending, ServerState, local_state

__all__ = ["DEVICE_GRANT", "discovery", "oauth_routes"]

DEVICE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
"""The ``grant_type`` of the device flow (RFC 8628)."""
_CODE_LIFETIME: Final = 600.0
_DEVICE_LIFETIME: Final = 900
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_USER_CODE_ALPHABET: Final = "BCDFGHJKLMNPQRSTVWXZ"
_PATH: Final = "/api/auth/oauth"


def _issuer(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def discovery(issuer: str) -> dict[str, object]:
    """The OpenID discovery document for ``issuer``, listing the endpoints served here."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}{_PATH}/authorize",
        "token_endpoint": f"{issuer}{_PATH}/token",
        "userinfo_endpoint": f"{issuer}{_PATH}/userinfo",
        "revocation_endpoint": f"{issuer}{_PATH}/revoke",
        "device_authorization_endpoint": f"{issuer}{_PATH}/device",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            DEVICE_GRANT,
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
        "scopes_supported": [str(1 << bit) for bit in range(int(ALL_SCOPES).bit_length())],
        "subject_types_supported": ["public"],
        "claims_supported": [
            "sub",
            "name",
            "preferred_username",
            "picture",
            "email",
            "email_verified",
        ],
    }


def _scope(text: str | None) -> int | None:
    if text is None or not text.isdigit() or int(text) > int(ALL_SCOPES):
        return None
    return int(text) | int(TokenScope.UserRead)


def _loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in _LOOPBACK


def _redirect(redirect_uri: str, query: dict[str, str]) -> Response:
    glue = "&" if urlsplit(redirect_uri).query else "?"
    return RedirectResponse(f"{redirect_uri}{glue}{urlencode(query)}", 303)


def _issue_code(state: ServerState, params: dict[str, str], scope: int) -> Response:
    code = secrets.token_urlsafe(32)
    state.codes[code] = Pending(
        params["client_id"],
        scope,
        state.clock.now() + _CODE_LIFETIME,
        redirect_uri=params["redirect_uri"],
        challenge=params["code_challenge"],
    )
    return _redirect(params["redirect_uri"], {"code": code, "state": params["state"]})


def _decide(state: ServerState, form: dict[str, str]) -> Response:
    """The consent form's answer: Approve issues a code, Deny sends ``access_denied``."""
    held = state.consents.pop(form.get("consent_id", ""), None)
    if held is None or held[0] <= state.clock.now():
        return oauth_error("invalid_request", "this consent request is unknown or has expired")
    params = held[1]
    if form.get("decision") == "approve":
        scope = _scope(params.get("scope"))
        assert scope is not None  # checked before the page was shown
        return _issue_code(state, params, scope)
    query = {"error": "access_denied", "error_description": "The user denied the request"}
    return _redirect(params["redirect_uri"], {**query, "state": params["state"]})


async def authorize(request: Request) -> Response:
    """Validate the request, then show the consent page (or, with auto-consent, approve).

    Success is a 303 to ``redirect_uri?code=…&state=…``; Deny gives
    ``redirect_uri?error=access_denied&…&state=…``. The consent form posts back a
    one-time ``consent_id``, so a forged POST cannot approve without the page.
    """
    state = local_state(request)
    params = dict(request.query_params)
    if request.method == "POST":
        form = await _form(request) or {}
        if "consent_id" in form:
            return _decide(state, form)
        params.update(form)
    client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri", "")
    if not client_id:
        return oauth_error("invalid_request", "client_id is required")
    if not _loopback(redirect_uri):
        return oauth_error("invalid_request", "redirect_uri is not registered for this client")
    if params.get("response_type") != "code":
        return oauth_error("unsupported_response_type", "response_type must be code")
    if not params.get("state"):
        return oauth_error("invalid_request", "state is required")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return oauth_error("invalid_request", "PKCE with code_challenge_method=S256 is required")
    scope = _scope(params.get("scope"))
    if scope is None:
        return oauth_error("invalid_scope", "scope must be a decimal bitmask within ALL_SCOPES")
    if state.config.auto_consent:
        return _issue_code(state, params, scope)
    now = state.clock.now()
    for stale in [key for key, (until, _) in state.consents.items() if until <= now]:
        del state.consents[stale]
    consent_id = secrets.token_urlsafe(32)
    state.consents[consent_id] = (now + _CODE_LIFETIME, params)
    app_name = state.config.client_names.get(client_id, client_id)
    return consent_page(
        app_name=app_name,
        scopes=scope_words(scope),
        redirect_uri=redirect_uri,
        action=f"{_PATH}/authorize",
        consent_id=consent_id,
    )


def _token_body(
    state: ServerState, client_id: str, scope: int, scope_as_list: bool
) -> JSONResponse:
    access, refresh = state.tokens.mint(client_id, scope, state.clock.now())
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_LIFETIME,
            "refresh_token": refresh,
            "scope": [str(scope)] if scope_as_list else str(scope),
        },
        headers={"Cache-Control": "no-store"},
    )


def _client_error(state: ServerState, form: dict[str, str]) -> JSONResponse | None:
    """``invalid_client`` when a confidential client's secret is missing or wrong."""
    expected = state.config.confidential_clients.get(form.get("client_id", ""))
    given = form.get("client_secret")
    if expected is not None and (given is None or not same_secret(given, expected)):
        return oauth_error("invalid_client", "client authentication failed", 401)
    return None


async def _form(request: Request) -> dict[str, str] | None:
    """The form-encoded body, or ``None`` for any other content type."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    return dict(parse_qsl((await capped_body(request)).decode("utf-8", "replace")))


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def token(request: Request) -> Response:
    """Grants ``authorization_code`` (PKCE), ``refresh_token`` (rotated), client credentials."""
    state = local_state(request)
    form = await _form(request)
    if form is None:
        return oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded")
    failure = _client_error(state, form)
    if failure is not None:
        return failure
    grant, client_id, now = form.get("grant_type"), form.get("client_id", ""), state.clock.now()
    if grant == "authorization_code":
        pending = state.codes.pop(form.get("code", ""), None)
        if (
            pending is None
            or pending.expires_at <= now
            or pending.client_id != client_id
            or pending.redirect_uri != form.get("redirect_uri")
            or not same_secret(_s256(form.get("code_verifier", "")), pending.challenge)
        ):
            return oauth_error("invalid_grant", "the authorization code is invalid or expired")
        return _token_body(state, client_id, pending.scope, True)
    if grant == "refresh_token":
        held = state.tokens.refresh.pop(form.get("refresh_token", ""), None)
        if held is None or held.expires_at <= now or held.client_id != client_id:
            return oauth_error("invalid_grant", "the refresh token is invalid or expired")
        return _token_body(state, client_id, held.scope, True)
    if grant == "client_credentials":
        if client_id not in state.config.confidential_clients:
            return oauth_error(
                "invalid_client", "client_credentials needs a confidential client", 401
            )
        scope = _scope(form.get("scope", "0"))
        if scope is None:
            return oauth_error("invalid_scope", "scope must be a decimal bitmask within ALL_SCOPES")
        return _token_body(state, client_id, scope, True)
    return oauth_error("unsupported_grant_type", f"grant type {grant!r} is not supported here")


async def revoke(request: Request) -> Response:
    """Revoke for confidential clients only; always answers 200 ``{}`` like the real one."""
    state = local_state(request)
    form = await _form(request) or {}
    client_id = form.get("client_id", "")
    if client_id in state.config.confidential_clients and _client_error(state, form) is None:
        token_value = form.get("token", "")
        if not state.tokens.revoke_refresh(token_value, client_id):
            held = state.tokens.access.get(token_value)
            if held is not None and held.client_id == client_id:
                del state.tokens.access[token_value]
    return JSONResponse({})


def _user_code() -> str:
    letters = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


async def device(request: Request) -> Response:
    """Start a device grant; it is approved on visiting the page or after a delay."""
    state = local_state(request)
    form = await _form(request)
    if form is None or not form.get("client_id"):
        return oauth_error("invalid_request", "client_id is required (form-encoded)")
    scope = _scope(form.get("scope"))
    if scope is None:
        return oauth_error("invalid_scope", "scope must be a decimal bitmask within ALL_SCOPES")
    now, code = state.clock.now(), secrets.token_hex(32)
    pending = Pending(form["client_id"], scope, now + _DEVICE_LIFETIME, user_code=_user_code())
    delay = state.config.device_approve_after
    pending.approved_at = None if delay is None else now + delay
    state.devices[code] = pending
    page = f"{_issuer(request)}/login/oauth/device"
    return JSONResponse(
        {
            "device_code": code,
            "user_code": pending.user_code,
            "verification_uri": page,
            "verification_uri_complete": f"{page}?{urlencode({'code': pending.user_code})}",
            "expires_in": _DEVICE_LIFETIME,
            "interval": state.config.device_interval,
        }
    )


async def device_token(request: Request) -> Response:
    """Poll a device grant: pending until approved, then tokens once (scope as a string)."""
    state = local_state(request)
    form = await _form(request)
    if form is None:
        return oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded")
    if form.get("grant_type") != DEVICE_GRANT:
        return oauth_error("unsupported_grant_type", "grant_type must be the device_code grant")
    code, now = form.get("device_code", ""), state.clock.now()
    pending = state.devices.get(code)
    if pending is None or pending.client_id != form.get("client_id"):
        return oauth_error("invalid_grant", "unknown device code")
    if pending.expires_at <= now:
        del state.devices[code]
        return oauth_error("expired_token", "the device code has expired")
    if pending.approved_at is None or pending.approved_at > now:
        return oauth_error("authorization_pending", "the user has not approved yet")
    del state.devices[code]
    return _token_body(state, pending.client_id, pending.scope, False)


async def device_page(request: Request) -> Response:
    """The code-entry page: visiting it with ``?code=`` approves that code."""
    state = local_state(request)
    user_code = request.query_params.get("code", "").upper()
    for pending in state.devices.values():
        if user_code and pending.user_code == user_code:
            pending.approved_at = state.clock.now()
            return HTMLResponse("<!DOCTYPE html><p>Device approved. You can close this page.</p>")
    return HTMLResponse("<!DOCTYPE html><p>Enter the code shown on your device.</p>", 404)


async def well_known(request: Request) -> Response:
    """``/.well-known/openid-configuration`` for this server's URL."""
    return JSONResponse(discovery(_issuer(request)))


async def jwks(_: Request) -> Response:
    """No id_tokens are signed locally, so the key set is empty."""
    return JSONResponse({"keys": []})


def oauth_routes() -> list[Route]:
    """The OAuth server's routes."""
    return [
        Route(f"{_PATH}/authorize", authorize, methods=["GET", "POST"]),
        Route(f"{_PATH}/token", token, methods=["POST"]),
        Route(f"{_PATH}/revoke", revoke, methods=["POST"]),
        Route(f"{_PATH}/device", device, methods=["POST"]),
        Route(f"{_PATH}/device-token", device_token, methods=["POST"]),
        Route("/login/oauth/device", device_page, methods=["GET"]),
        Route("/.well-known/openid-configuration", well_known, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]

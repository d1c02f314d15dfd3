"""Typed, lenient views of ``/api/v1/me`` and the Buzz accounts of a token's user.

Two tRPC procedures report Buzz (both need BuzzRead): ``buzz.getUserAccount``, a list of
the user's accounts as 0.14's ``fetchBuzzAccount`` returns it (:class:`BuzzAccount`), and
``buzz.getBuzzAccount``, the spendable pools (:class:`BuzzBalances`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from civitai_app_sdk.errors import RequestValidationError
from civitai_app_sdk.scopes import TokenScope

__all__ = [
    "BuzzAccount",
    "BuzzBalances",
    "CivitaiUser",
    "TokenSubject",
    "parse_buzz_accounts",
    "parse_buzz_balances",
]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class TokenSubject(_Lenient):
    """Who a token was issued to: ``type`` ``apiKey`` or ``oauth`` and that key's/client's id."""

    type: str
    id: int | str


class CivitaiUser(_Lenient):
    """``GET /api/v1/me``: the token's user. Unknown fields are kept as extras."""

    id: int
    username: str | None = None
    tier: str | None = None
    status: str | None = None
    is_member: bool | None = Field(default=None, alias="isMember")
    subscriptions: list[str] = Field(default_factory=list)
    email: str | None = None
    email_verified: bool | None = Field(default=None, alias="emailVerified")
    token_scope: int | None = Field(default=None, alias="tokenScope", ge=0)  # -1: all bits
    subject: TokenSubject | None = None
    buzz_limit: list[dict[str, Any]] | None = Field(default=None, alias="buzzLimit")

    @property
    def scope(self) -> TokenScope | None:
        """``token_scope`` as a :class:`TokenScope` (``None`` for session auth)."""
        return None if self.token_scope is None else TokenScope(self.token_scope)


class BuzzBalances(_Lenient):
    """Spendable Buzz pools from tRPC ``buzz.getBuzzAccount`` (missing pools read as 0)."""

    blue: int = 0
    green: int = 0
    yellow: int = 0


class BuzzAccount(_Lenient):
    """One Buzz account from tRPC ``buzz.getUserAccount``, as 0.14's ``BuzzAccount``.

    ``account_type`` is one of ``yellow``, ``blue``, ``red``, ``green``, ``purple`` (kept
    as a string, so a new kind still reads).
    """

    id: int | str
    balance: int | float
    lifetime_balance: int | float | None = Field(default=None, alias="lifetimeBalance")
    account_type: str = Field(alias="accountType")


_ACCOUNTS: TypeAdapter[list[BuzzAccount]] = TypeAdapter(list[BuzzAccount])


def _trpc_data(body: object) -> object:
    """``result.data``, or ``result.data.json`` under superjson; the body itself otherwise."""
    if not (isinstance(body, dict) and isinstance(body.get("result"), dict)):
        return body
    data = body["result"].get("data")
    if isinstance(data, dict) and "json" in data:
        return data["json"]
    return data


def parse_buzz_balances(body: object) -> BuzzBalances:
    """The pools in a ``buzz.getBuzzAccount`` body; another shape raises
    :class:`~civitai_app_sdk.errors.RequestValidationError` (a ``ValueError``)."""
    try:
        return BuzzBalances.model_validate(_trpc_data(body))
    except ValidationError as exc:
        raise RequestValidationError(
            [f"unexpected buzz.getBuzzAccount body: {exc.error_count()} problem(s)"], "argument"
        ) from None


def parse_buzz_accounts(body: object) -> list[BuzzAccount]:
    """The accounts in a ``buzz.getUserAccount`` body, read as 0.14 reads them.

    An array under ``result.data`` (or ``result.data.json``) is the list; a missing envelope
    or a null ``json`` is an empty list. Anything else raises
    :class:`~civitai_app_sdk.errors.RequestValidationError`, a ``ValueError`` (0.14 would
    hand it back unchecked).
    """
    if not (isinstance(body, dict) and isinstance(body.get("result"), dict)):
        return []
    data = body["result"].get("data")
    if isinstance(data, dict):
        data = data.get("json")
    if data is None:
        return []
    try:
        return _ACCOUNTS.validate_python(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [f"unexpected buzz.getUserAccount body: {exc.error_count()} problem(s)"], "argument"
        ) from None

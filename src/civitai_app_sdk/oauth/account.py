"""Typed, lenient views of ``/api/v1/me`` and the Buzz account of a token's user."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civitai_app_sdk.scopes import TokenScope

__all__ = ["BuzzAccount", "CivitaiUser", "TokenSubject"]


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
    token_scope: int | None = Field(default=None, alias="tokenScope")
    subject: TokenSubject | None = None
    buzz_limit: list[dict[str, Any]] | None = Field(default=None, alias="buzzLimit")

    @property
    def scope(self) -> TokenScope | None:
        """``token_scope`` as a :class:`TokenScope` (``None`` for session auth)."""
        return None if self.token_scope is None else TokenScope(self.token_scope)


class BuzzAccount(_Lenient):
    """Spendable Buzz pools from tRPC ``buzz.getBuzzAccount`` (missing pools read as 0)."""

    blue: int = 0
    green: int = 0
    yellow: int = 0

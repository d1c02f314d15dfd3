"""The signed-in user's Buzz balance, in one place."""

from __future__ import annotations

from civitai_app_sdk.oauth import AsyncOAuthClient


async def buzz_balance(oauth: AsyncOAuthClient, access_token: str) -> int:
    """Total spendable Buzz across the user's pools."""
    account = await oauth.fetch_buzz_balances(access_token)
    return account.blue + account.green + account.yellow

"""The local user's Buzz pools: debits in the allowed order, refunds as credits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["DEFAULT_BALANCE", "DEFAULT_ORDER", "BuzzLedger", "InsufficientBuzzError"]

DEFAULT_ORDER: Final = ("blue", "green", "yellow")
"""Pools used when a workflow names no currencies."""
DEFAULT_BALANCE: Final = {"blue": 0, "green": 0, "yellow": 5000}
"""Starting Buzz of the local user."""

Transaction = dict[str, Any]
"""A Buzz transaction as the API shows it: ``type``, ``amount``, ``accountType``, ``id``."""


class InsufficientBuzzError(Exception):
    """The allowed pools hold less than the cost."""

    def __init__(self, cost: int, available: int) -> None:
        """Remember what was asked and what there was."""
        super().__init__(f"insufficient Buzz: cost {cost}, available {available}")
        self.cost = cost
        self.available = available


class BuzzLedger:
    """Balances per pool; every change is returned as API transactions."""

    def __init__(self, balance: Mapping[str, int] = DEFAULT_BALANCE) -> None:
        """Start with ``balance`` (pools ``blue``, ``green``, ``yellow``)."""
        self._pools = {name: int(balance.get(name, 0)) for name in DEFAULT_ORDER}

    def balance(self) -> dict[str, int]:
        """A copy of the pools."""
        return dict(self._pools)

    def plan(self, cost: int, currencies: Sequence[str]) -> list[Transaction]:
        """The debits that would pay ``cost``; raises :class:`InsufficientBuzzError`.

        A pool named twice in ``currencies`` is still one pool (counted once, never
        overdrawn).
        """
        named = dict.fromkeys(c for c in currencies if c in self._pools)
        order = list(named) if currencies else list(DEFAULT_ORDER)
        available = sum(self._pools[name] for name in order)
        if cost > available:
            raise InsufficientBuzzError(cost, available)
        debits: list[Transaction] = []
        remaining = cost
        for name in order:
            amount = min(remaining, self._pools[name])
            if amount:
                debits.append({"type": "debit", "amount": amount, "accountType": name})
                remaining -= amount
        return debits

    def debit(self, cost: int, currencies: Sequence[str], reference: str) -> list[Transaction]:
        """Take ``cost`` from the pools (raises when short) and return the debits."""
        debits = self.plan(cost, currencies)
        for index, debit in enumerate(debits):
            self._pools[str(debit["accountType"])] -= int(debit["amount"])
            debit["id"] = f"{reference}-d{index}"
        return debits

    def refund(
        self, debits: Sequence[Transaction], amount: int, reference: str
    ) -> list[Transaction]:
        """Give back up to ``amount`` to the pools ``debits`` came from, last first."""
        credits: list[Transaction] = []
        for debit in reversed(debits):
            portion = min(amount, int(debit["amount"]))
            if portion <= 0:
                break
            pool = str(debit["accountType"])
            self._pools[pool] += portion
            amount -= portion
            credits.append(
                {
                    "type": "credit",
                    "amount": portion,
                    "accountType": pool,
                    "id": f"{reference}-c{len(credits)}",
                }
            )
        return credits

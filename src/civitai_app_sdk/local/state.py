"""Configuration and the mutable state one local server holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from starlette.requests import Request

from .auth import TokenBook
from .blobs import Signer
from .buzz import DEFAULT_BALANCE, BuzzLedger
from .clock import Clock, SystemClock
from .faults import FaultRule
from .store import Store
from .timeline import Timings
from .uploads import Uploads

__all__ = ["LocalConfig", "Pending", "ServerState", "local_state"]


@attrs.frozen
class LocalConfig:
    """How a local server behaves.

    ``token``: the only API token accepted (``None``: any non-empty token);
    ``fail_steps``: step names or ``$type`` values that end ``failed``;
    ``confidential_clients``: OAuth client id → secret (other ids are public clients);
    ``device_approve_after``: seconds until a device code is approved without a visit
    to its page (``None``: only a visit approves it);
    ``blob_redirect``: answer GetBlob with a 308 to the content URL (else bytes directly);
    ``auto_consent``: authorize approves at once (headless tests) instead of showing the
    consent page; ``client_names``: OAuth client id → app name shown on that page;
    ``fault_seed``: seeds the draws of fault rules that hit only by ``chance``.
    """

    token: str | None = None
    balance: Mapping[str, int] = attrs.field(factory=lambda: dict(DEFAULT_BALANCE))
    timings: Timings = attrs.field(factory=Timings)
    fail_steps: frozenset[str] = frozenset()
    faults: tuple[FaultRule, ...] = ()
    confidential_clients: Mapping[str, str] = attrs.field(factory=dict)
    device_interval: float = 5.0
    device_approve_after: float | None = 0.0
    blob_redirect: bool = True
    max_wait: int = 100
    auto_consent: bool = True
    client_names: Mapping[str, str] = attrs.field(factory=dict)
    fault_seed: int = 0


@attrs.define
class Pending:
    """An authorization code or device code waiting to be redeemed."""

    client_id: str
    scope: int
    expires_at: float
    redirect_uri: str = ""
    challenge: str = ""
    user_code: str = ""
    approved_at: float | None = None


class ServerState:
    """Everything one server instance keeps in memory."""

    def __init__(self, config: LocalConfig, clock: Clock | None = None) -> None:
        """Fresh state for ``config`` on ``clock`` (the system clock by default)."""
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.tokens = TokenBook(config.token)
        self.signer = Signer()
        self.store = Store(BuzzLedger(config.balance), config.timings, self._fails)
        self.codes: dict[str, Pending] = {}
        self.devices: dict[str, Pending] = {}
        self.consents: dict[str, tuple[float, dict[str, str]]] = {}
        self.uploads = Uploads()
        self.stopping: Callable[[], bool] = lambda: False
        """Whether the server is shutting down (held long-polls then answer at once)."""

    def _fails(self, step: Mapping[str, Any]) -> bool:
        return bool({step.get("name"), step.get("$type")} & self.config.fail_steps)


def local_state(request: Request) -> ServerState:
    """The server state behind the app that received ``request``."""
    state: ServerState = request.app.state.local
    return state

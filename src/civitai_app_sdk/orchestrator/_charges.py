"""What the error of a call that may spend Buzz must say (its operation's ``on_failure``).

A submit with an idempotency key cannot be charged twice: every error it ends with (a
cancellation or an interrupt too) carries the key and names the safe retry
(:func:`~civitai_app_sdk.errors.retry_with_key`). A recipe (the API gives them no key)
or a ``submit(idempotent=False)`` whose answer is lost may still have run and been
charged: calling it again blindly can charge twice. The errors that leave that
possibility open say so, and how to check first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .._retry import NEVER_SENT
from ..errors import (
    ConfigurationError,
    OrchestratorError,
    PoolExhaustedError,
    RequestValidationError,
    ResponseValidationError,
    add_to_message,
    retry_with_key,
)

__all__ = ["may_have_run", "warn_charged"]


def may_have_run(error: BaseException) -> bool:
    """Whether the call that ended with ``error`` may have reached the server and run.

    Not when nothing was sent (a refused argument, no connection) or when the server
    answered with a refusal (a 3xx or 4xx); yes for a lost or 5xx answer, an unreadable
    2xx one, and a cancellation or interrupt.
    """
    if isinstance(error, ResponseValidationError):
        return True
    if isinstance(error, RequestValidationError | ConfigurationError | PoolExhaustedError):
        return False
    if isinstance(error, OrchestratorError):
        if error.status is not None:
            return error.status >= 500
        return not isinstance(error.__cause__, NEVER_SENT)
    return True


def warn_charged(what: str, external_id: str | None) -> Callable[[BaseException], None]:
    """The ``on_failure`` of a call named ``what`` that may spend Buzz.

    With an ``external_id`` every error carries the key and the safe retry; without one,
    an error that leaves open whether the call ran says to look before calling again.
    """
    if external_id is not None:
        return functools.partial(retry_with_key, external_id=external_id, call=what)
    note = (
        f"The {what} may have run and spent Buzz before this error: it carries no "
        "idempotency key, so look at your workflows (client.list()) before calling it again"
    )

    def warn(error: BaseException) -> None:
        if may_have_run(error):
            add_to_message(error, note)

    return warn

"""What an error of a call that spends Buzz without an idempotency key must say.

A recipe (the API gives them no key) or a ``submit(idempotent=False)`` whose answer is
lost may still have run and been charged: calling it again blindly can charge twice. The
errors that leave that possibility open say so, and how to check first.
"""

from __future__ import annotations

from collections.abc import Callable

from .._retry import NEVER_SENT
from ..errors import (
    ConfigurationError,
    OrchestratorError,
    PoolExhaustedError,
    RequestValidationError,
    ResponseValidationError,
    add_to_message,
)

__all__ = ["may_have_run", "warn_unkeyed"]


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


def warn_unkeyed(what: str) -> Callable[[BaseException], None]:
    """An ``on_failure`` for a call named ``what`` that charges without a key."""
    note = (
        f"The {what} may have run and spent Buzz before this error: it carries no "
        "idempotency key, so look at your workflows (client.list()) before calling it again"
    )

    def warn(error: BaseException) -> None:
        if may_have_run(error):
            add_to_message(error, note)

    return warn

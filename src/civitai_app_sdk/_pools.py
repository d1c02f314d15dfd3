"""The httpcore connection pool under an httpx transport, if it has the known shape.

:mod:`._held`, :mod:`._reclaim` and :mod:`._fork` mend httpcore's pool through its
private state: the lists ``_requests`` (each with its ``connection``) and
``_connections``, the ``_optional_thread_lock`` and ``_assign_requests_to_connections``.
They were checked against httpcore 1.0.9. A pool of another shape (another httpcore, a
custom transport) is not touched: each of them then does nothing rather than fail a
request.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pool_of"]


def pool_of(transport: object) -> Any | None:
    """``transport``'s httpcore pool when it has the private state the mends use, else ``None``."""
    pool = getattr(transport, "_pool", None)
    if (
        isinstance(getattr(pool, "_requests", None), list)
        and isinstance(getattr(pool, "_connections", None), list)
        and hasattr(pool, "_optional_thread_lock")
        and callable(getattr(pool, "_assign_requests_to_connections", None))
    ):
        return pool
    return None

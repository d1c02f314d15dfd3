"""Which hosts are this machine: the one rule for where plain http may carry a secret.

Kept apart from the transport so that URL checks (OAuth base URLs, web redirect URIs,
the CLI) can ask without importing the HTTP stack.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Final

__all__ = ["is_loopback"]

_NAME: Final = "localhost"
_IPV6_LOOPBACK: Final = ipaddress.IPv6Address("::1")


@functools.lru_cache(maxsize=256)  # a pure answer asked before every request
def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (plain http is allowed only there).

    The one loopback predicate of the package: ``localhost``, an IPv4 literal in
    ``127.0.0.0/8``, or ``::1`` (``[::1]``). Nothing else counts: ``app.localhost`` or
    ``localhost.`` may be resolved through DNS, and a name that merely starts with
    ``127.`` (``127.0.0.1.evil.example``) is another host.
    """
    host = host.lower()
    if host == _NAME:
        return True
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return address == _IPV6_LOOPBACK or (address.version == 4 and address.is_loopback)

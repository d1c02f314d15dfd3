"""A local stand-in for the Civitai orchestrator and OAuth server, speaking the same HTTP.

Needs the ``local`` extra (starlette, uvicorn). Start one with
``with LocalServer() as server: ...`` (``server.url`` is the base URL of every endpoint),
``python -m civitai_app_sdk.local`` or ``civitai-orch serve-local``.
"""

from ._extra import LOCAL_EXTRA_HINT
from .clock import Clock, ManualClock, SystemClock
from .faults import FaultRule
from .server import LocalServer
from .state import LocalConfig
from .timeline import Timings

__all__ = [
    "LOCAL_EXTRA_HINT",
    "Clock",
    "FaultRule",
    "LocalConfig",
    "LocalServer",
    "ManualClock",
    "SystemClock",
    "Timings",
]

"""The CLI's one JSON parser: a document nested past what Python's parser reads (it
raises ``RecursionError``) is refused like any other text that is not JSON."""

from __future__ import annotations

import json
from typing import Any


class NestedTooDeeplyError(ValueError):
    """JSON nested past the parser's depth (about 1,000 levels)."""

    def __init__(self) -> None:
        """The one message for it."""
        super().__init__("the JSON is nested too deeply (over about 1,000 levels)")


def parse_json(text: str | bytes, **options: Any) -> Any:
    """``json.loads(text, **options)``; :class:`NestedTooDeeplyError` (a ``ValueError``)
    for a document nested too deeply to parse."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise NestedTooDeeplyError from None

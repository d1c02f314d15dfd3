"""JSON Patch documents for ``patch``/``patch_step``, built from a before and after state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonpatch

__all__ = ["make_patch"]


def make_patch(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The RFC 6902 operations that turn ``before`` into ``after``.

    ``client.patch(id, make_patch({"metadata": old}, {"metadata": new}))`` sends only what
    changed. Keys are the API's camelCase JSON names.
    """
    operations: list[dict[str, Any]] = jsonpatch.make_patch(dict(before), dict(after)).patch
    return operations

"""The App Block manifest JSON Schema as a generated Python module.

An installed wheel has no `specs/` directory, so the pinned schema is written into the
generated package as data; `civitai_app_sdk.blocks.schema` checks every manifest with it.
"""

from __future__ import annotations

import pprint

from codegen import inputs, render


def module(entry: inputs.LockEntry) -> str:
    """The source of `app_block_schema.py` for the pinned schema `entry`."""
    schema = inputs.load_json(entry)
    if not isinstance(schema, dict):
        raise ValueError(f"{entry.file} does not hold a JSON Schema object")
    return render.render(
        "app_block_schema.py.j2",
        header=render.header({"app_block_schema": entry.sha256}),
        url=entry.url,
        schema=pprint.pformat(schema, sort_dicts=False, width=88),
    )

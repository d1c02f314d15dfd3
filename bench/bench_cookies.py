"""Sealed-cookie throughput: ``CookieSealer`` against the Node SDK's algorithm.

The Node figures come from ``bench/node_cookies.js``: the real ``@civitai/app-sdk`` 0.14
``sealCookie``/``unsealCookie`` when ``tests/auth/node`` has it installed (else the same
algorithm through node:crypto), which run scrypt on every call, and AES-GCM with a
cached key, as a floor for what a cipher call costs there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from civitai_app_sdk.cookies import CookieSealer, seal_cookie, unseal_cookie

NODE_SCRIPT = Path(__file__).with_name("node_cookies.js")
SECRET = "bench-secret-0123456789abcdef-0123456789"
VALUE = json.dumps(
    {
        "access_token": "civitai_0123456789abcdef0123456789abcdef0123",
        "refresh_token": "civitai_fedcba9876543210fedcba9876543210fedc",
        "expires_at": 1767225600000,
        "scope": 114689,
        "token_type": "Bearer",
    },
    separators=(",", ":"),
)
VS_SCRYPT_TARGET = 1000.0
VS_CACHED_TARGET = 0.5
MODULE_VS_SEALER_TARGET = 1.1


def rate(fn: Callable[[], object], seconds: float = 0.5, batch: int = 500) -> float:
    """Calls per second of ``fn``, measured for about ``seconds``."""
    for _ in range(batch):
        fn()
    calls = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
    return calls / elapsed


def node_rates() -> dict[str, float] | None:
    """Run the Node script; ``None`` (with a message) when node is missing or fails."""
    node = shutil.which("node")
    if node is None:
        print("node: not found on PATH, skipping the Node comparison")
        return None
    try:
        done = subprocess.run(
            [node, str(NODE_SCRIPT)], capture_output=True, text=True, check=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"node: benchmark script failed ({type(exc).__name__}), skipping the comparison")
        return None
    data: dict[str, float] = json.loads(done.stdout)
    return data


def _line(name: str, per_second: float) -> None:
    print(f"{name:<44} {per_second:>12,.0f} ops/s  ({1e6 / per_second:9.2f} µs/op)")


def _ratio(name: str, ours: float, theirs: float, target: float) -> None:
    ratio = ours / theirs
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    print(f"  ratio {name:<38} {ratio:>12,.2f}x   (target >= {target:g}x: {verdict})")


def module_vs_sealer(sealer: CookieSealer, sealed: str) -> None:
    """Time per call of the module-level functions over a ``CookieSealer``'s (target 1.1x)."""
    rotation = [SECRET, "bench-older-secret-0123456789abcdef-012345"]
    rotated = CookieSealer(rotation)
    pairs: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "unseal_cookie / CookieSealer.unseal",
            lambda: unseal_cookie(sealed, SECRET),
            lambda: sealer.unseal(sealed),
        ),
        (
            "unseal_cookie(rotation list) / CookieSealer",
            lambda: unseal_cookie(sealed, rotation),
            lambda: rotated.unseal(sealed),
        ),
        ("seal_cookie / CookieSealer.seal", lambda: seal_cookie(VALUE, SECRET), seal_one),
    ]
    for name, module_fn, sealer_fn in pairs:
        module_fn(), sealer_fn()  # derive the keys outside the measurement
        module, direct = 0.0, 0.0
        for _ in range(12):  # short rounds, interleaved: load spikes hit both sides alike
            module = max(module, rate(module_fn, seconds=0.05, batch=200))
            direct = max(direct, rate(sealer_fn, seconds=0.05, batch=200))
        ratio = direct / module
        verdict = "ok" if ratio <= MODULE_VS_SEALER_TARGET else "short"
        print(
            f"  ratio {name:<44} {ratio:6.2f}x time   "
            f"(target <= {MODULE_VS_SEALER_TARGET:g}x: {verdict})"
        )


def seal_one() -> object:
    """One seal with the benchmark's shared sealer."""
    return _SEALER.seal(VALUE)


_SEALER = CookieSealer(SECRET)


def run() -> None:
    """Print Python and Node seal/unseal rates and their ratios."""
    sealer = _SEALER
    start = time.perf_counter()
    sealed = sealer.seal(VALUE)  # the first use derives the key
    first = time.perf_counter() - start
    print(f"{'first seal (scrypt, once per secret)':<44} {first * 1000:12.1f} ms")
    well_formed_garbage = f"{os.urandom(12).hex()}:{os.urandom(16).hex()}:{os.urandom(64).hex()}"
    assert sealer.unseal(sealed) == VALUE
    assert sealer.unseal(well_formed_garbage) is None

    seal = rate(lambda: sealer.seal(VALUE))
    unseal = rate(lambda: sealer.unseal(sealed))
    garbage = rate(lambda: sealer.unseal(well_formed_garbage))
    malformed = rate(lambda: sealer.unseal("not-a-sealed-cookie"))
    cold = CookieSealer("never-used-secret-0123456789abcdef-0123")
    cold_malformed = rate(lambda: cold.unseal("zz" + sealed[2:]))
    _line("python CookieSealer.seal", seal)
    _line("python CookieSealer.unseal", unseal)
    _line("python unseal, well-formed garbage", garbage)
    _line("python unseal, malformed garbage", malformed)
    _line("python unseal, malformed, key never derived", cold_malformed)
    module_vs_sealer(sealer, sealed)

    node = node_rates()
    if node is None:
        return
    source = node.get("source", "node:crypto replica")
    print(f"node {node.get('node', '?')} (per-call figures from {source}):")
    _line("node SDK seal (scrypt per call)", node["seal_scrypt_per_call"])
    _line("node SDK unseal (scrypt per call)", node["unseal_scrypt_per_call"])
    _line("node SDK unseal garbage (scrypt per call)", node["unseal_garbage_scrypt_per_call"])
    _line("node seal, cached key", node["seal_cached_key"])
    _line("node unseal, cached key", node["unseal_cached_key"])
    _ratio("unseal vs node SDK", unseal, node["unseal_scrypt_per_call"], VS_SCRYPT_TARGET)
    _ratio(
        "garbage unseal vs node SDK",
        garbage,
        node["unseal_garbage_scrypt_per_call"],
        VS_SCRYPT_TARGET,
    )
    _ratio("seal vs node SDK", seal, node["seal_scrypt_per_call"], VS_SCRYPT_TARGET)
    _ratio("unseal vs node cached key", unseal, node["unseal_cached_key"], VS_CACHED_TARGET)
    _ratio("seal vs node cached key", seal, node["seal_cached_key"], VS_CACHED_TARGET)

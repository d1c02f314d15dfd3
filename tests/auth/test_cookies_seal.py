"""Sealed cookies: 0.14 wire format, Node interop, tamper resistance, key caching."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitai_app_sdk import cookies
from civitai_app_sdk.cookies import MAX_SEALED_LENGTH, CookieSealer, seal_cookie, unseal_cookie

# Short secrets here are deliberate (0.14 fixtures, brevity); the warning has its own tests.
pytestmark = pytest.mark.filterwarnings("ignore::civitai_app_sdk.cookies.WeakCookieSecretWarning")

FIXTURES = Path(__file__).parent / "fixtures"
NODE_DIR = Path(__file__).parent / "node"
NODE_SEALED = json.loads((FIXTURES / "node_sealed_cookies.json").read_text("utf-8"))
SECRET = "test-secret-for-hypothesis-0123456789"
SEALER = CookieSealer(SECRET)
WIRE = re.compile(r"[0-9a-f]{24}:[0-9a-f]{32}:(?:[0-9a-f]{2})*")


@pytest.mark.parametrize("item", NODE_SEALED, ids=lambda item: item["value"][:12])
def test_cookie_sealed_by_node_opens(item: dict[str, str]) -> None:
    assert unseal_cookie(item["sealed"], item["secret"]) == item["value"]
    assert CookieSealer([item["secret"]]).unseal(item["sealed"]) == item["value"]


@pytest.mark.parametrize("item", NODE_SEALED, ids=lambda item: item["value"][:12])
def test_cookie_sealed_by_node_refuses_other_secret(item: dict[str, str]) -> None:
    assert unseal_cookie(item["sealed"], item["secret"] + "x") is None


def test_wire_format_shape() -> None:
    value = "héllo ☃"
    sealed = seal_cookie(value, SECRET)
    assert WIRE.fullmatch(sealed)
    assert len(sealed) == 24 + 1 + 32 + 1 + 2 * len(value.encode("utf-8"))
    assert seal_cookie(value, SECRET) != sealed  # fresh IV every time


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))  # at most 2,000 UTF-8 bytes: within the 4 KB cookie cap
def test_seal_unseal_round_trips_any_text(value: str) -> None:
    sealed = SEALER.seal(value)
    assert WIRE.fullmatch(sealed)
    assert SEALER.unseal(sealed) == value


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=40), st.data())
def test_any_single_byte_change_unseals_to_none(value: str, data: st.DataObject) -> None:
    sealed = SEALER.seal(value)
    index = data.draw(st.integers(0, len(sealed) - 1), label="index")
    replacement = data.draw(
        st.characters(codec="ascii").filter(lambda ch: ch != sealed[index]), label="byte"
    )
    tampered = sealed[:index] + replacement + sealed[index + 1 :]
    assert SEALER.unseal(tampered) is None


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.data())
def test_truncated_or_extended_value_unseals_to_none(value: str, data: st.DataObject) -> None:
    sealed = SEALER.seal(value)
    cut = data.draw(st.integers(0, len(sealed) - 1), label="cut")
    assert SEALER.unseal(sealed[:cut]) is None
    suffix = data.draw(st.text(min_size=1, max_size=4), label="suffix")
    assert SEALER.unseal(sealed + suffix) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ":",
        "::",
        "a:b:c",
        "zz:zz:zz",
        "not a cookie",
        None,
        12345,
        b"00:00:00",
        ["a", "b"],
        "0" * 24 + ":" + "0" * 32 + ":" + "0",  # odd nibble
        "0" * 23 + ":" + "0" * 32 + ":00",  # short IV
        "0" * 24 + ":" + "0" * 31 + ":00",  # short tag
        "0" * 24 + ":" + "0" * 32 + ":00:00",  # four parts
    ],
)
def test_garbage_unseals_to_none(garbage: object) -> None:
    assert unseal_cookie(garbage, SECRET) is None


def test_non_canonical_hex_is_rejected_unlike_node() -> None:
    item = NODE_SEALED[0]
    sealed, secret = item["sealed"], item["secret"]
    assert unseal_cookie(sealed, secret) == item["value"]
    for variant in (sealed.upper(), sealed + "zz", sealed + "0", sealed + "\n", " " + sealed):
        assert unseal_cookie(variant, secret) is None


def test_empty_string_round_trips() -> None:
    assert unseal_cookie(seal_cookie("", SECRET), SECRET) == ""


def test_lone_surrogate_sealed_as_replacement_character_like_node() -> None:
    assert unseal_cookie(seal_cookie("a\ud800b", SECRET), SECRET) == "a\ufffdb"


def test_invalid_utf8_plaintext_unseals_to_none() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = cookies._derive_key(SECRET)
    iv = bytes(12)
    sealed = AESGCM(key).encrypt(iv, b"\xff\xfeA", None)
    wire = f"{iv.hex()}:{sealed[-16:].hex()}:{sealed[:-16].hex()}"
    assert unseal_cookie(wire, SECRET) is None


def test_key_matches_node_scrypt_parameters() -> None:
    import hashlib

    expected = hashlib.scrypt(
        SECRET.encode(), salt=b"civitai-app-sdk-cookie-salt", n=16384, r=8, p=1, dklen=32
    )
    assert cookies._derive_key(SECRET) == expected


def test_rotation_first_secret_seals_all_unseal() -> None:
    old = CookieSealer("old-secret")
    rotated = CookieSealer(["new-secret", "old-secret"])
    legacy = old.seal("session")
    assert rotated.unseal(legacy) == "session"
    fresh = rotated.seal("session")
    assert CookieSealer("new-secret").unseal(fresh) == "session"
    assert old.unseal(fresh) is None
    assert unseal_cookie(legacy, ["new-secret", "old-secret"]) == "session"


@pytest.mark.parametrize(
    ("secrets", "error"),
    [([], ValueError), ("", ValueError), (["a", ""], ValueError), (["a", "a"], ValueError)],
)
def test_bad_secret_lists_raise(secrets: list[str] | str, error: type[Exception]) -> None:
    with pytest.raises(error):
        CookieSealer(secrets)


def test_non_str_secret_raises_type_error() -> None:
    with pytest.raises(TypeError):
        CookieSealer([b"bytes"])  # type: ignore[list-item]


def test_seal_rejects_non_str_value() -> None:
    with pytest.raises(TypeError):
        SEALER.seal(b"bytes")  # type: ignore[arg-type]


def test_keys_are_derived_once_and_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    under_k2 = CookieSealer("k2").seal("y")
    under_k3 = CookieSealer("k3").seal("z")
    calls: list[str] = []
    real = cookies._derive_key

    def counting(secret: str) -> bytes:
        calls.append(secret)
        return real(secret)

    monkeypatch.setattr(cookies, "_derive_key", counting)
    sealer = CookieSealer(["k1", "k2"])
    assert calls == []  # nothing at construction
    for _ in range(50):
        assert sealer.unseal("garbage") is None
        assert sealer.unseal("0" * 24 + ":" + "0" * 32 + ":zz") is None
    assert calls == []  # malformed input never derives a key
    sealed = sealer.seal("x")
    for _ in range(20):
        assert sealer.unseal(sealed) == "x"
    assert calls == ["k1"]
    assert sealer.unseal(under_k2) == "y"
    assert sealer.unseal(under_k3) is None
    assert sealer.unseal(under_k2) == "y"
    assert calls == ["k1", "k2"]


def test_module_functions_cache_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = cookies._derive_key

    def counting(secret: str) -> bytes:
        calls.append(secret)
        return real(secret)

    monkeypatch.setattr(cookies, "_derive_key", counting)
    secret = "module-level-cache-secret"
    for _ in range(5):
        assert unseal_cookie(seal_cookie("v", secret), secret) == "v"
    assert calls == [secret]


def test_module_cache_keeps_secret_lists_apart() -> None:
    assert unseal_cookie(seal_cookie("v", "a\0b"), ["a", "b"]) is None
    assert unseal_cookie(seal_cookie("v", "a"), ["a\0b"]) is None
    assert unseal_cookie(seal_cookie("v", "b"), ["a", "b"]) == "v"


def test_repr_hides_secrets() -> None:
    sealer = CookieSealer(["super-secret-value", "older-secret"])
    assert "secret" not in repr(sealer).replace("secret(s)", "")
    assert "super" not in repr(sealer)


def _node_sdk_available() -> bool:
    return (
        shutil.which("node") is not None and (NODE_DIR / "node_modules/@civitai/app-sdk").is_dir()
    )


@pytest.mark.skipif(not _node_sdk_available(), reason="node or @civitai/app-sdk not installed")
def test_python_sealed_cookies_open_in_node_sdk() -> None:
    largest = "x" * ((MAX_SEALED_LENGTH - 58) // 2)  # seals to exactly MAX_SEALED_LENGTH
    values = [item["value"] for item in NODE_SEALED] + ["plain", "ünï ✓ 🎉", largest]
    items = [{"sealed": seal_cookie(v, "py-secret ✓"), "secret": "py-secret ✓"} for v in values]
    items.append({"sealed": seal_cookie("rotated", "new"), "secret": "old"})
    result = subprocess.run(
        ["node", str(NODE_DIR / "unseal.mjs")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == [*values, None]

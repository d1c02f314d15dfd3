"""``--max-size`` on the commands that download, and the size parser behind it.

``results --download`` and ``blob --download`` had no size cap: a file that never ended
filled the disk. They now stop one past ``--max-size`` (default 16GiB) and keep nothing;
the value takes bytes or a unit (``500M``, ``2G``, ``16GiB``, ``1.5GB``), and anything
else is a usage error before a request is sent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from civitai_app_sdk.cli._sizes import MAX_FILE_SIZE, parse_size, size_text
from tests.cli.conftest import Run
from tests.streams import Counted, Sent

API = "https://orch.test"
KIB = 1 << 10
WF: dict[str, Any] = {
    "id": "wf-1",
    "status": "succeeded",
    "steps": [
        {
            "$type": "textToImage",
            "name": "img",
            "status": "succeeded",
            "input": {"model": "urn:air:sdxl:checkpoint:civitai:1@2", "prompt": "a cat"},
            "output": {
                "images": [
                    {"type": "image", "id": "IMGA.png", "available": True, "url": f"{API}/a?s=1"}
                ]
            },
        },
        {
            "$type": "videoGen",
            "name": "vid",
            "status": "succeeded",
            "input": {"engine": "kling", "prompt": "a dog"},
            "output": {
                "video": {"type": "video", "id": "VIDB.mp4", "available": True, "url": f"{API}/b"}
            },
        },
    ],
}
BAD = ["0", "0.4", "-5", "abc", "1e3", "5iB", "", "1.5.5", "G", "1 0", "9EiB", "1_000"]


@pytest.fixture
def api(authed: Run) -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def _answer(body: Counted | bytes, kind: str = "image/png", **headers: str) -> httpx.Response:
    """A 200 answer streaming ``body`` as sent (respx decodes ``content=`` whole)."""
    stream = Sent(body) if isinstance(body, bytes) else body
    return httpx.Response(200, headers={"content-type": kind, **headers}, stream=stream)


def _results(authed: Run, out: Path, *options: str) -> tuple[list[dict[str, Any]], Any]:
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json", *options)
    assert "downloads" in json.loads(result.stdout), (result.stdout, result.stderr)
    return json.loads(result.stdout)["downloads"], result


# --- the parser ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1000", 1000),
        ("500M", 500 << 20),
        ("2G", 2 << 30),
        ("16GiB", 16 << 30),
        ("16gib", 16 << 30),
        ("16 GiB", 16 << 30),
        ("1.5GB", 1_500_000_000),
        ("1kb", 1000),
        ("1K", 1024),
        ("1KiB", 1024),
        ("7b", 7),
        (" 3T ", 3 << 40),
        (".5K", 512),
    ],
)
def test_sizes_read_as_coreutils_reads_them(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", BAD)
def test_what_is_not_a_size_says_so(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace(".", r"\.")):
        parse_size(text)


@given(st.integers(1, MAX_FILE_SIZE))
def test_a_size_reads_back_from_its_text_and_its_digits(size: int) -> None:
    assert parse_size(size_text(size)) == size
    assert parse_size(str(size)) == size


@given(
    st.integers(0, 1 << 20),
    st.sampled_from([("K", 1 << 10), ("MB", 10**6), ("GiB", 1 << 30), ("t", 1 << 40)]),
)
def test_a_unit_multiplies(number: int, unit: tuple[str, int]) -> None:
    text, factor = unit
    size = number * factor
    if 1 <= size <= MAX_FILE_SIZE:
        assert parse_size(f"{number}{text}") == size
    else:
        with pytest.raises(ValueError, match=r"less than 1 byte|too large"):
            parse_size(f"{number}{text}")


@given(st.text(max_size=30))
def test_any_text_is_a_size_in_range_or_a_value_error(text: str) -> None:
    try:
        size = parse_size(text)
    except ValueError:
        return
    assert 1 <= size <= MAX_FILE_SIZE


def test_the_default_shows_as_16gib() -> None:
    assert size_text(16 << 30) == "16GiB"
    assert size_text(1536 * KIB) == "1536KiB"
    assert size_text(1000) == "1000B"


# --- the commands ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["results", "wf-1"], ["blob", "B.png"]])
@pytest.mark.parametrize("value", BAD)
def test_a_bad_max_size_is_a_usage_error_before_any_request(
    authed: Run, api: Any, cli_home: Path, command: list[str], value: str
) -> None:
    anything = api.route()
    result = authed(*command, "--download", f"--dir={cli_home / 'out'}", f"--max-size={value}")
    assert result.exit_code == 2, result.stderr
    assert "Invalid value for '--max-size'" in result.stderr
    assert not anything.called
    assert not (cli_home / "out").exists()


def test_results_download_keeps_files_up_to_the_cap_and_fails_past_it(
    authed: Run, api: Any, cli_home: Path
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    big = Counted(64 << 20, chunk=4 * KIB)  # endless for a 1 KiB cap
    api.get(f"{API}/a").mock(return_value=_answer(big))
    api.get(f"{API}/b").mock(return_value=_answer(b"v" * KIB, "video/mp4"))
    out = cli_home / "dl"
    reports, result = _results(authed, out, "--max-size=1K")
    assert result.exit_code == 11, result.stderr
    assert [r["status"] for r in reports] == ["failed", "saved"]
    assert reports[0]["reason"] == "larger than --max-size 1KiB, so nothing was kept (raise it)"
    assert big.pulled <= 2 * 64 * KIB
    assert [p.name for p in out.iterdir()] == ["wf-1_vid_0.mp4"]  # exactly 1 KiB: kept


def test_results_download_refuses_a_declared_length_past_the_cap_unread(
    authed: Run, api: Any, cli_home: Path
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    body = Counted(3 * KIB)
    api.get(f"{API}/a").mock(return_value=_answer(body, **{"content-length": str(3 * KIB)}))
    api.get(f"{API}/b").mock(return_value=_answer(b"v", "video/mp4"))
    reports, _ = _results(authed, cli_home / "dl", "--max-size=2KB")
    assert reports[0]["reason"] == "larger than --max-size 2000B, so nothing was kept (raise it)"
    assert body.pulled == 0


def test_results_download_within_the_default_cap_is_kept(
    authed: Run, api: Any, cli_home: Path
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get(f"{API}/a").mock(return_value=_answer(b"p" * 3 * KIB))
    api.get(f"{API}/b").mock(
        return_value=_answer(gzip.compress(b"mp4"), **{"content-encoding": "gzip"})
    )
    reports, result = _results(authed, cli_home / "dl")
    assert result.exit_code == 0, result.stderr
    assert [r["bytes"] for r in reports] == [3 * KIB, 3]  # the gzip decoded


def test_results_download_refuses_an_encoding_it_cannot_bound(
    authed: Run, api: Any, cli_home: Path
) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get(f"{API}/a").mock(return_value=_answer(b"\x0b\x01\x80", **{"content-encoding": "br"}))
    api.get(f"{API}/b").mock(return_value=_answer(b"v", "video/mp4"))
    out = cli_home / "dl"
    reports, result = _results(authed, out)
    assert result.exit_code == 11
    assert "'br'" in reports[0]["reason"]
    assert "nothing was kept" in reports[0]["reason"]
    assert [p.name for p in out.iterdir()] == ["wf-1_vid_0.mp4"]


def test_blob_download_past_the_cap_fails_and_says_how_to_raise_it(
    authed: Run, api: Any, cli_home: Path
) -> None:
    body = Counted(64 << 20, chunk=4 * KIB)
    api.get(f"{API}/v2/consumer/blobs/B.png").mock(return_value=_answer(body))
    out = cli_home / "dl"
    result = authed("blob", "B.png", "--download", f"--dir={out}", "--max-size", "1.5K")
    assert result.exit_code == 11, result.stderr
    assert "larger than --max-size 1536B" in result.stderr
    assert "max_size=" not in result.stderr  # the CLI's words, not Python's
    assert body.pulled <= 2 * 64 * KIB
    assert list(out.iterdir()) == []


def test_blob_download_of_exactly_the_cap_and_gzipped_is_kept(
    authed: Run, api: Any, cli_home: Path
) -> None:
    packed = gzip.compress(b"p" * 1536)
    api.get(f"{API}/v2/consumer/blobs/B.png").mock(
        return_value=_answer(packed, **{"content-encoding": "gzip"})
    )
    out = cli_home / "dl"
    result = authed("blob", "B.png", "--download", f"--dir={out}", "--max-size=1536", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["bytes"] == 1536
    assert (out / "B.png").read_bytes() == b"p" * 1536

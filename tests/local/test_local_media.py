"""The generated media are real files of their type."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from civitai_app_sdk.local.media import media_bytes, mp4_bytes, png_bytes, wav_bytes


def test_png_has_header_size_and_decodable_pixels() -> None:
    data = png_bytes(5, 3, seed=0x102030)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (5, 3)
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    pixels = zlib.decompress(data[idat + 4 : idat + 4 + length])
    assert len(pixels) == 3 * (1 + 5 * 3)
    assert data.endswith(b"IEND\xaeB`\x82")


def test_mp4_starts_with_ftyp_and_has_moov() -> None:
    data = mp4_bytes(1500)
    size = struct.unpack(">I", data[:4])[0]
    assert data[4:8] == b"ftyp"
    assert data[size + 4 : size + 8] == b"moov"
    assert b"mvhd" in data
    assert len(data) == size + struct.unpack(">I", data[size : size + 4])[0]


def test_wav_is_readable() -> None:
    with wave.open(io.BytesIO(wav_bytes(0.25, rate=8000))) as reader:
        assert reader.getnchannels() == 1
        assert reader.getnframes() == 2000


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="model3d"):
        media_bytes("model3d", 1)

"""Tiny but real media files, generated with the standard library: PNG, MP4 and WAV."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from typing import Final

__all__ = ["CONTENT_TYPES", "EXTENSIONS", "media_bytes", "mp4_bytes", "png_bytes", "wav_bytes"]

CONTENT_TYPES: Final = {"image": "image/png", "video": "video/mp4", "audio": "audio/wav"}
"""Content type of the bytes served for each blob kind."""
EXTENSIONS: Final = {"image": "png", "video": "mp4", "audio": "wav"}
"""File extension of the blob ids of each kind (real ids carry one too)."""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(width: int, height: int, seed: int) -> bytes:
    """An RGB PNG of ``width`` x ``height`` with a gradient coloured by ``seed``."""
    red, green, blue = (seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        shade = y * 255 // max(height - 1, 1)
        for x in range(width):
            rows += bytes(((red + x * 4) & 0xFF, (green + shade) & 0xFF, blue))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(duration_ms: int) -> bytes:
    """A minimal ISO BMFF file: ``ftyp`` plus a ``moov`` holding an ``mvhd`` header."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">IIIII", 0, 0, 0, 1000, duration_ms)  # version+flags, times, scale, length
        + struct.pack(">IH", 0x10000, 0x100)  # rate 1.0, volume 1.0
        + bytes(10)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2),  # next track id
    )
    return ftyp + _box(b"moov", mvhd)


def wav_bytes(seconds: float, frequency: float = 440.0, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM WAV holding a sine tone."""
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate)))
        for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return buffer.getvalue()


def media_bytes(kind: str, seed: int) -> bytes:
    """The bytes served for a blob of ``kind`` (``image``, ``video`` or ``audio``)."""
    if kind == "image":
        return png_bytes(64, 64, seed)
    if kind == "video":
        return mp4_bytes(2000)
    if kind == "audio":
        return wav_bytes(0.5, 220.0 + seed % 440)
    raise ValueError(f"no media for blob kind {kind!r}")

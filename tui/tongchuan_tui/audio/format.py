"""The one audio format the service takes: 16 kHz, 16-bit little-endian, mono PCM."""

from __future__ import annotations

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2
CHANNELS = 1
BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS // 1000  # 32

MIN_PACKET_MS = 200
MAX_PACKET_MS = 500


def ms_to_bytes(ms: int) -> int:
    """Bytes of PCM that hold `ms` milliseconds."""
    return ms * BYTES_PER_MS


def bytes_to_ms(size: int) -> int:
    """Whole milliseconds of PCM in `size` bytes."""
    return size // BYTES_PER_MS

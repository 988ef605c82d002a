"""The service's fixed facts as the emulator knows them, written from the API reference (PROTOCOL.md).

Kept apart from the client's own constants on purpose: the emulator is a second, independent reading of the
reference, so a wrong guess on one side shows up as a failing test instead of being shared.
"""

from __future__ import annotations

SERVICE = "tsi"
API_VERSION = "2021-03-25"

ACTION_SYNC = "TongChuanSync"
ACTION_RECOGNIZE = "TongChuanRecognize"
ACTION_DISPLAY = "TongChuanDisplay"
ACTIONS = (ACTION_SYNC, ACTION_RECOGNIZE, ACTION_DISPLAY)
UPLOAD_ACTIONS = (ACTION_SYNC, ACTION_RECOGNIZE)

#: Which targets each source language may be interpreted into (zh → en/ja/ko/yue; the others → zh).
LANGUAGE_PAIRS: dict[str, tuple[str, ...]] = {
    "zh": ("en", "ja", "ko", "yue"),
    "en": ("zh",),
    "ja": ("zh",),
    "ko": ("zh",),
    "yue": ("zh",),
}
LANGUAGES = tuple(LANGUAGE_PAIRS)

AUDIO_FORMAT_PCM = 1
#: TranslateTime values accepted: 0 and 2 are the reference's; 1 is what the quick start sends.
TRANSLATE_TIMES = (0, 1, 2)

#: 16 kHz, 16-bit, mono PCM: 32 bytes per millisecond.
SAMPLE_RATE = 16_000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
MIN_PACKET_MS = 200
MAX_PACKET_MS = 500


def ms_to_bytes(ms: int) -> int:
    """Bytes of the service's PCM that hold `ms` milliseconds."""
    return ms * BYTES_PER_MS


def mask(value: str | None) -> str:
    """An identifier shortened so it can be recognised but not used: at most 4 characters each end."""
    if not value:
        return ""
    keep = min(4, len(value) // 4)
    return f"{value[:keep]}…{value[-keep:]}" if keep else "…"

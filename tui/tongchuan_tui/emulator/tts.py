"""Stand-in "synthesized speech" for sentences of sessions that ask for TTS: a soft tone, not a voice."""

from __future__ import annotations

import base64
import io
import math
import sys
import wave
from array import array

TONE_HZ = 440.0
MS_PER_CHARACTER = 60
MIN_MS, MAX_MS = 300, 3000


def placeholder_audio(text: str, codec: str, sample_rate: int) -> str | None:
    """Base64 audio for `text` in `codec` ("pcm" raw s16le mono, or "wav"); None for "mp3", which the emulator
    cannot encode (the field is then left out)."""
    if codec not in ("pcm", "wav"):
        return None
    duration_ms = max(MIN_MS, min(MAX_MS, len(text) * MS_PER_CHARACTER))
    count = sample_rate * duration_ms // 1000
    fade = max(1, sample_rate // 100)
    samples = array("h")
    for i in range(count):
        envelope = min(1.0, i / fade, (count - i) / fade)
        samples.append(int(3000 * envelope * math.sin(2 * math.pi * TONE_HZ * i / sample_rate)))
    if sys.byteorder == "big":
        samples.byteswap()
    pcm = samples.tobytes()
    if codec == "pcm":
        return base64.b64encode(pcm).decode("ascii")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return base64.b64encode(buffer.getvalue()).decode("ascii")

"""The emulator's "synthesized speech" of translations, for sessions that ask for TTS.

With espeak-ng on the system the translation is spoken in the target language (espeak-ng voices en, cmn
for zh, ja, ko, yue); without it, or when it fails, a soft tone whose length follows the text stands in.
Codecs: pcm (raw s16le mono), wav, and mp3 when PyAV's FFmpeg has an MP3 encoder (else the field is left
out, as for any codec the emulator cannot make). Sample rates 16000 and 8000.
"""

from __future__ import annotations

import base64
import functools
import io
import itertools
import logging
import math
import shutil
import subprocess
import sys
import wave
from array import array
from typing import Any

log = logging.getLogger(__name__)

TONE_HZ = 440.0
MS_PER_CHARACTER = 60
MIN_MS, MAX_MS = 300, 3000
ESPEAK_VOICES = {"en": "en", "zh": "cmn", "ja": "ja", "ko": "ko", "yue": "yue"}
ESPEAK_TIMEOUT_S = 10.0
#: espeak-ng's words per minute at Speed 0; the service's Speed maps to 0.6×..2.5× of it.
ESPEAK_WPM = 175
SPEED_FACTORS = {-2: 0.6, -1: 0.8, 0: 1.0, 1: 1.2, 2: 1.5, 6: 2.5}


def placeholder_audio(text: str, codec: str, sample_rate: int) -> str | None:
    """Base64 of a tone for `text` in `codec` (pcm, wav, mp3); None for a codec the emulator cannot make."""
    return _encode(_tone(text, sample_rate), codec, sample_rate)


def speech_audio(text: str, language: str, codec: str, sample_rate: int, speed: float = 0.0) -> str | None:
    """Base64 audio of `text` spoken in `language` (espeak-ng, else a tone), in `codec` at `sample_rate`."""
    pcm = _espeak(text, language, sample_rate, speed) if text.strip() else None
    return _encode(pcm if pcm else _tone(text, sample_rate), codec, sample_rate)


def espeak_available() -> bool:
    """Whether espeak-ng can be run."""
    return shutil.which("espeak-ng") is not None


def _speed_factor(speed: float) -> float:
    points = sorted(SPEED_FACTORS.items())
    for (a, fa), (b, fb) in itertools.pairwise(points):
        if a <= speed <= b:
            return fa + (fb - fa) * (speed - a) / (b - a)
    return 1.0


@functools.lru_cache(maxsize=64)
def _espeak(text: str, language: str, sample_rate: int, speed: float) -> bytes | None:
    voice = ESPEAK_VOICES.get(language)
    if voice is None or not espeak_available():
        return None
    wpm = str(round(ESPEAK_WPM * _speed_factor(speed)))
    try:
        done = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", wpm, "--stdout", text],
            capture_output=True,
            timeout=ESPEAK_TIMEOUT_S,
            check=True,
        )
        with wave.open(io.BytesIO(done.stdout)) as clip:
            rate, width, channels = clip.getframerate(), clip.getsampwidth(), clip.getnchannels()
            pcm = clip.readframes(clip.getnframes())
    except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as exc:
        log.warning("espeak-ng failed (%s): a tone stands in", exc)
        return None
    if (width, channels) != (2, 1) or not pcm:
        return None
    return _resample(pcm, rate, sample_rate)


def _resample(pcm: bytes, rate: int, wanted: int) -> bytes:
    if rate == wanted:
        return pcm
    import av

    samples = len(pcm) // 2
    frame: Any = av.AudioFrame(format="s16", layout="mono", samples=samples)
    frame.planes[0].update(pcm[: samples * 2])
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=wanted)
    out = bytearray()
    for converted in [*resampler.resample(frame), *resampler.resample(None)]:
        out += bytes(converted.planes[0])[: converted.samples * 2]
    return bytes(out)


def _tone(text: str, sample_rate: int) -> bytes:
    duration_ms = max(MIN_MS, min(MAX_MS, len(text) * MS_PER_CHARACTER))
    count = sample_rate * duration_ms // 1000
    fade = max(1, sample_rate // 100)
    samples = array("h")
    for i in range(count):
        envelope = min(1.0, i / fade, (count - i) / fade)
        samples.append(int(3000 * envelope * math.sin(2 * math.pi * TONE_HZ * i / sample_rate)))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _encode(pcm: bytes, codec: str, sample_rate: int) -> str | None:
    if codec == "pcm":
        data = pcm
    elif codec == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm)
        data = buffer.getvalue()
    elif codec == "mp3":
        encoded = _mp3(pcm, sample_rate)
        if encoded is None:
            return None
        data = encoded
    else:
        return None
    return base64.b64encode(data).decode("ascii")


def _mp3(pcm: bytes, sample_rate: int) -> bytes | None:
    try:
        import av

        buffer = io.BytesIO()
        with av.open(buffer, mode="w", format="mp3") as container:
            stream: Any = container.add_stream("libmp3lame", rate=sample_rate)
            stream.layout = "mono"
            samples = len(pcm) // 2
            frame: Any = av.AudioFrame(format="s16", layout="mono", samples=samples)
            frame.planes[0].update(pcm[: samples * 2])
            frame.sample_rate = sample_rate
            frame.pts = 0
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)
        return buffer.getvalue()
    except Exception as exc:  # no MP3 encoder in this FFmpeg build, or it refused the rate
        log.info("mp3 TTS not available in the emulator: %s", exc)
        return None

"""Generated speech-like PCM for tests and demos: voiced bursts with a syllable rhythm, quiet between."""

from __future__ import annotations

import math
import random
import sys
from array import array
from collections.abc import Sequence

from tongchuan_tui.emulator.wire import SAMPLE_RATE

SYLLABLE_HZ = 4.0
NOISE_FLOOR = 30


def speech_like_pcm(
    total_ms: int, speech: Sequence[tuple[int, int]], *, seed: int = 0, level: float = 0.3
) -> bytes:
    """`total_ms` of 16 kHz s16le mono: a harmonic voice with a syllable envelope inside each
    (start_ms, end_ms) of `speech`, faint noise elsewhere. Deterministic for a given seed."""
    rng = random.Random(seed)
    count = total_ms * SAMPLE_RATE // 1000
    samples = array("h", (int(rng.gauss(0, NOISE_FLOOR / 2)) for _ in range(count)))
    amplitude = level * 32767
    for start_ms, end_ms in speech:
        first = max(0, start_ms * SAMPLE_RATE // 1000)
        last = min(count, end_ms * SAMPLE_RATE // 1000)
        pitch = rng.uniform(110.0, 220.0)
        for i in range(first, last):
            t = (i - first) / SAMPLE_RATE
            # Syllables: the envelope rises and falls about four times a second but never reaches zero.
            envelope = 0.55 + 0.45 * math.sin(2 * math.pi * SYLLABLE_HZ * t)
            wave = sum(math.sin(2 * math.pi * pitch * h * t) / h for h in (1, 2, 3))
            value = samples[i] + amplitude * envelope * wave / 1.8
            samples[i] = max(-32768, min(32767, int(value)))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()

"""Input level metering (RMS, peak, clipping) of s16le PCM, for the level bar and `devices` checks."""

from __future__ import annotations

import math
import operator
import sys
from array import array
from typing import NamedTuple

FLOOR_DBFS = -96.0
"""Reported for digital silence (and anything quieter): the dynamic range of 16-bit audio."""
FULL_SCALE = 32768.0


class Level(NamedTuple):
    """The level of a piece of PCM, in dB relative to full scale (0 dBFS = 32768)."""

    rms_dbfs: float
    peak_dbfs: float
    clipped: bool
    """A sample hit the rails (±full scale), i.e. the input gain is too high."""


def _dbfs(value: float) -> float:
    if value <= 0.0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(value / FULL_SCALE))


def measure_level(pcm: bytes) -> Level:
    """RMS and peak level of s16le PCM (a trailing odd byte is ignored); silence gives `FLOOR_DBFS`."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if not samples:
        return Level(FLOOR_DBFS, FLOOR_DBFS, False)
    if sys.byteorder == "big":
        samples.byteswap()
    # map(mul) over the array runs in C: ~0.8 ms for a 200 ms packet (0.4% of real time; see test_levels).
    mean_square = sum(map(operator.mul, samples, samples)) / len(samples)
    low, high = min(samples), max(samples)
    peak = max(high, -low)
    clipped = high >= 32767 or low <= -32768
    return Level(_dbfs(math.sqrt(mean_square)), _dbfs(float(peak)), clipped)

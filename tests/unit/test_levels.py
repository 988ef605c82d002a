"""Level metering: RMS and peak in dBFS, clipping, silence, and fast enough for 16 kHz."""

from __future__ import annotations

import math
import time
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongchuan_tui.audio.levels import FLOOR_DBFS, measure_level


def _pcm(samples: list[int]) -> bytes:
    return array("h", samples).tobytes()


def _sine(amplitude: float, count: int = 3200) -> list[int]:
    return [round(amplitude * math.sin(2 * math.pi * 440 * i / 16_000)) for i in range(count)]


def test_silence_is_the_floor() -> None:
    assert measure_level(bytes(6400)) == (FLOOR_DBFS, FLOOR_DBFS, False)
    assert measure_level(b"") == (FLOOR_DBFS, FLOOR_DBFS, False)


def test_half_scale_sine() -> None:
    level = measure_level(_pcm(_sine(16_384)))

    assert level.peak_dbfs == pytest.approx(-6.02, abs=0.01)
    assert level.rms_dbfs == pytest.approx(-6.02 - 3.01, abs=0.05)  # a sine's RMS is 3 dB under its peak
    assert not level.clipped


def test_square_wave_rms_equals_peak() -> None:
    level = measure_level(_pcm([1000, -1000] * 1600))

    assert level.rms_dbfs == pytest.approx(level.peak_dbfs)
    assert level.peak_dbfs == pytest.approx(20 * math.log10(1000 / 32768))


@pytest.mark.parametrize("rail", [32767, -32768])
def test_a_sample_on_either_rail_is_clipping(rail: int) -> None:
    samples = _sine(8000)
    samples[100] = rail

    assert measure_level(_pcm(samples)).clipped
    assert measure_level(_pcm(samples)).peak_dbfs == pytest.approx(0.0, abs=0.001)


def test_odd_trailing_byte_is_ignored() -> None:
    assert measure_level(_pcm(_sine(4000)) + b"\x7f") == measure_level(_pcm(_sine(4000)))


@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=2000))
def test_rms_never_exceeds_peak_and_both_stay_in_range(samples: list[int]) -> None:
    level = measure_level(_pcm(samples))

    assert FLOOR_DBFS <= level.rms_dbfs <= level.peak_dbfs + 1e-9 <= 1e-9
    assert level.clipped == (max(samples) == 32767 or min(samples) == -32768)


def test_fast_enough_for_real_time() -> None:
    # 10 s of audio in 200 ms packets must take a small fraction of 10 s (measured: ~0.8 ms per packet).
    packet = _pcm(_sine(20_000))
    started = time.perf_counter()
    for _ in range(50):
        measure_level(packet)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{elapsed * 20:.2f} ms per 200 ms packet"

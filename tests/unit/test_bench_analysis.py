"""The benchmark report's arithmetic (scripts/bench): pacing, the service's view, percentiles, drift."""

from __future__ import annotations

import math

import pytest
from benchmarks.analysis import Packet, growth_ms_per_min, pacing, service_excess_ms, sizes
from benchmarks.measure import percentile, summarize


def _paced(n: int, *, chunk_ms: int = 200, late_ms: float = 0.0) -> list[Packet]:
    return [
        Packet(k, k * chunk_ms, chunk_ms, ((k + 1) * chunk_ms + late_ms) / 1000, session="s")
        for k in range(n)
    ]


def test_packets_on_the_ideal_schedule_are_neither_early_nor_late() -> None:
    result = pacing(_paced(10), 0.0)
    assert result.ahead == 0
    assert result.abs_error.max == pytest.approx(0.0, abs=1e-9)


def test_a_packet_sent_before_its_audio_was_spoken_counts_as_ahead() -> None:
    packets = _paced(5)
    packets[3] = Packet(3, 600, 200, 0.795, session="s")  # due at 0.800
    result = pacing(packets, 0.0)
    assert result.ahead == 1
    assert result.earliest_ms == pytest.approx(-5.0)


def test_the_padded_last_packet_is_not_judged() -> None:
    packets = [*_paced(3), Packet(3, 600, 200, 0.0, is_end=True, session="s")]
    assert pacing(packets, 0.0).ahead == 0


def test_service_view_sees_a_burst_but_not_a_steady_late_stream() -> None:
    assert service_excess_ms(_paced(20, late_ms=100.0)) == pytest.approx(0.0, abs=1e-6)
    burst = [Packet(k, k * 200, 200, 1.0 + k * 0.001, session="s") for k in range(3)]
    assert service_excess_ms(burst) == pytest.approx(400 - 2, abs=1e-6)


def test_service_view_judges_each_session_from_its_own_first_packet() -> None:
    first = _paced(3)
    second = [Packet(k, k * 200, 200, 10.0 + k * 0.2, session="t") for k in range(3)]
    assert service_excess_ms(first + second) == pytest.approx(0.0, abs=1e-6)


def test_percentiles_and_sizes() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([0.0, 10.0], 99) == pytest.approx(9.9)
    assert math.isnan(summarize([]).p99)
    assert sizes([*_paced(2), Packet(2, 400, 500, 1.0)]) == "200 ms ×2, 500 ms ×1"


def test_drift_is_the_slope_of_lag_over_audio_time() -> None:
    ends = [k * 200 for k in range(1, 301)]  # one minute of audio
    lags = [10.0 + 0.05 * e for e in ends]  # 50 ms more behind per second of audio
    assert growth_ms_per_min(ends, lags) == pytest.approx(3000.0)

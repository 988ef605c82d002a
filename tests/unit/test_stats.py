"""Stats from the event stream: counts, request rate, RTT percentiles, sessions, errors."""

from __future__ import annotations

from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    ChunkSent,
    RequestFailed,
    RequestRetried,
    ServiceSessionOpened,
)
from tongchuan_tui.pipeline.stats import StatsCollector, percentile


def chunk(seq: int, rtt: float) -> ChunkSent:
    return ChunkSent(seq, "u", seq * 200, 200, 6400, seq * 200, rtt, f"r{seq}", 0, False)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) is None


async def test_counts_rates_and_round_trips() -> None:
    clock = FakeClock()
    stats = StatsCollector(clock)
    for seq in range(100):
        await clock.advance(0.2)
        stats.observe(chunk(seq, float(seq + 1)))
    stats.observe(RequestRetried("TongChuanSync", 100, 1, "InternalError", "boom", 250))
    stats.observe(RequestFailed("TongChuanDisplay", None, "AuthFailure", "bad key", final=False))
    stats.observe(AudioDropped(5000, 500, "backlog-full"))
    stats.observe(ServiceSessionOpened("a", 0, 0, "start"))
    stats.observe(ServiceSessionOpened("b", 1, 600, "rollover"))
    snap = stats.snapshot(
        in_flight=1, backlog_ms=400, behind_live_ms=600, rate_headroom={"TongChuanSync": 0.8}
    )
    assert (snap.requests_ok, snap.requests_retried, snap.requests_failed) == (100, 1, 1)
    # The last 5 s held 25 packets (one per 200 ms) plus the two failures.
    assert snap.requests_per_s == round(27 / 5, 2)
    assert (snap.rtt_p50_ms, snap.rtt_p95_ms, snap.rtt_p99_ms) == (50.0, 95.0, 99.0)
    assert snap.rtt_recent_ms == tuple(float(v) for v in range(41, 101))
    assert snap.audio_sent_ms == 20_000
    assert snap.dropped_ms == 500
    assert (snap.service_sessions, snap.rollovers) == (2, 1)
    assert (snap.last_error_code, snap.last_error_message) == ("AuthFailure", "bad key")
    assert (snap.in_flight, snap.backlog_ms, snap.behind_live_ms) == (1, 400, 600)
    assert snap.rate_headroom == {"TongChuanSync": 0.8}


async def test_an_empty_stream_has_no_round_trips() -> None:
    snap = StatsCollector(FakeClock()).snapshot()
    assert snap.requests_ok == 0
    assert snap.rtt_p50_ms is None
    assert snap.requests_per_s == 0.0

"""Stream health from the event stream: counts, request rate, round-trip percentiles, errors.

Counters come from events (`observe`); the gauges only the scheduler knows (in flight, backlog, behind live,
rate headroom) are passed to `snapshot`.
"""

from __future__ import annotations

import math
from collections import deque

from tongchuan_tui.pipeline.clock import Clock
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    ChunkSent,
    Event,
    RequestFailed,
    RequestRetried,
    Sentence,
    ServiceSessionOpened,
    StatsSnapshot,
)

RATE_WINDOW_S = 5.0
"""Requests per second are averaged over this many seconds (one second is too jumpy to read)."""
RTT_SAMPLES = 1000
RTT_RECENT = 60
NOW_WINDOW_S = 10.0
""""Now" figures (round trip) are over this many seconds: whole-session percentiles hide a change."""


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of `values` (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class StatsCollector:
    """Folds events into a `StatsSnapshot` on a clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._started = clock.monotonic()
        self._ok = 0
        self._retried = 0
        self._failed = 0
        self._request_times: deque[float] = deque()
        self._rtts: deque[float] = deque(maxlen=RTT_SAMPLES)
        self._dropped_ms = 0
        self._audio_sent_ms = 0
        self._service_sessions = 0
        self._rollovers = 0
        self._last_error: tuple[str, str] | None = None
        self._recent: deque[tuple[float, float]] = deque()
        """(when, round trip) of the answers of the last NOW_WINDOW_S."""
        self._seen: set[str] = set()
        self._lag_first_ms: int | None = None
        self._lag_final_ms: int | None = None

    def observe(self, event: Event) -> None:
        """Account for one event (events that say nothing about health are ignored)."""
        now = self._clock.monotonic()
        if isinstance(event, ChunkSent):
            self._ok += 1
            self._request_times.append(now)
            self._rtts.append(event.round_trip_ms)
            self._recent.append((now, event.round_trip_ms))
            self._audio_sent_ms += event.duration_ms
            # A delivered packet means the trouble is over: the last error is history, not news.
            self._last_error = None
        elif isinstance(event, RequestRetried):
            self._retried += 1
            self._request_times.append(now)
            self._last_error = (event.code, event.message)
        elif isinstance(event, RequestFailed):
            self._failed += 1
            self._request_times.append(now)
            self._last_error = (event.code, event.message)
        elif isinstance(event, AudioDropped):
            self._dropped_ms += event.duration_ms
        elif isinstance(event, ServiceSessionOpened):
            self._service_sessions += 1
            if event.reason == "rollover":
                self._rollovers += 1

    def sentence_shown(self, sentence: Sentence, speaker_ms: int) -> None:
        """A sentence revision reached the viewers while the speaker was at `speaker_ms` on the timeline:
        its first text lags its first words, its final lags its last words."""
        if sentence.key not in self._seen:
            self._seen.add(sentence.key)
            self._lag_first_ms = max(0, speaker_ms - sentence.start_ms)
        if sentence.final:
            self._lag_final_ms = max(0, speaker_ms - sentence.end_ms)

    def rtt_now_ms(self) -> float | None:
        """The median round trip of the last NOW_WINDOW_S."""
        now = self._clock.monotonic()
        while self._recent and self._recent[0][0] <= now - NOW_WINDOW_S:
            self._recent.popleft()
        return percentile([rtt for _, rtt in self._recent], 0.5)

    def requests_per_s(self) -> float:
        """Upload requests answered (ok or not) per second, over the last few seconds."""
        now = self._clock.monotonic()
        while self._request_times and self._request_times[0] <= now - RATE_WINDOW_S:
            self._request_times.popleft()
        span = min(RATE_WINDOW_S, now - self._started)
        return len(self._request_times) / span if span > 0 else 0.0

    def snapshot(
        self,
        *,
        in_flight: int = 0,
        backlog_ms: int = 0,
        behind_live_ms: int = 0,
        rate_headroom: dict[str, float] | None = None,
        backlog_limit_ms: int = 0,
    ) -> StatsSnapshot:
        """The stats as of now."""
        rtts = list(self._rtts)
        return StatsSnapshot(
            requests_ok=self._ok,
            requests_retried=self._retried,
            requests_failed=self._failed,
            requests_per_s=round(self.requests_per_s(), 2),
            rtt_p50_ms=percentile(rtts, 0.50),
            rtt_p95_ms=percentile(rtts, 0.95),
            rtt_p99_ms=percentile(rtts, 0.99),
            rtt_recent_ms=tuple(rtts[-RTT_RECENT:]),
            in_flight=in_flight,
            backlog_ms=backlog_ms,
            dropped_ms=self._dropped_ms,
            behind_live_ms=behind_live_ms,
            audio_sent_ms=self._audio_sent_ms,
            service_sessions=self._service_sessions,
            rollovers=self._rollovers,
            last_error_code=self._last_error[0] if self._last_error else None,
            last_error_message=self._last_error[1] if self._last_error else None,
            rate_headroom=dict(rate_headroom or {}),
            rtt_now_ms=self.rtt_now_ms(),
            lag_first_ms=self._lag_first_ms,
            lag_final_ms=self._lag_final_ms,
            backlog_limit_ms=backlog_limit_ms,
        )

"""The session's health as one derived state, from its event stream: what a person glancing at a screen (or a
program reading `--jsonl`) needs to know first.

States, most important first (the first that applies wins):

- `ended` / `failed`: the session is over (failed: with a non-zero exit code, or a final failure);
- `stopping`: a stop was asked for, the last results are being collected;
- `paused`: the user paused;
- `reconnecting`: packets do not get through — the service is unreachable (network errors, or retries
  lasting `UNREACHABLE_AFTER_S`), or a rollover to a new service session has not delivered yet;
- `starting`: nothing delivered yet;
- `stalled`: the input gives nothing — no audio arriving (the service session was closed as idle, or no
  audio for `NO_AUDIO_S`), or only silence for `SILENCE_S`;
- `degraded`: it works, but retrying, slow (recent round trips over `SLOW_RTT_MS`) or behind (the upload
  trails the speaker by `BEHIND_MS`, live inputs only);
- `live`: all is well.

`HealthTracker.observe` takes every event and `check` re-derives on the clock (a stall is the absence of
events); both return a `HealthChanged` only when the state or its reason changed.
"""

from __future__ import annotations

import statistics

from tongchuan_tui.pipeline.clock import Clock
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    HealthChanged,
    LevelMeasured,
    Paused,
    RequestFailed,
    RequestRetried,
    Resumed,
    ServiceSessionClosed,
    ServiceSessionOpened,
    SessionEnded,
    SessionStarted,
    StatsUpdated,
)

STARTING = "starting"
LIVE = "live"
DEGRADED = "degraded"
RECONNECTING = "reconnecting"
PAUSED = "paused"
STALLED = "stalled"
STOPPING = "stopping"
ENDED = "ended"
FAILED = "failed"
HEALTH_STATES = (STARTING, LIVE, DEGRADED, RECONNECTING, PAUSED, STALLED, STOPPING, ENDED, FAILED)

REASON_UNREACHABLE = "service unreachable"
REASON_ROLLOVER = "rollover"
REASON_RETRYING = "retrying"
REASON_SLOW = "slow"
REASON_BEHIND = "behind"
REASON_NO_AUDIO = "no audio arriving"
REASON_SILENCE = "silence"

NETWORK_CODES = frozenset({"NetworkError", "TLSError", "ConnectionError"})
"""Failure codes that mean the request never reached a service that answered."""
NETWORK_FAILURES = 2
"""Network failures in a row that make the service count as unreachable (one reset is only a retry)."""
NO_ANSWER_S = 2.5
"""A request unanswered this long (packets normally go every 0.2-0.5 s): the service is slow to answer."""
UNREACHABLE_AFTER_S = 3.0
"""Retries of any kind lasting this long without a delivered packet: the service counts as unreachable."""
NO_AUDIO_S = 3.0
"""No audio (levels or packets) for this long while running: the input has stalled."""
SILENCE_S = 10.0
"""Silence this long is worth saying (a muted microphone, a wrong device)."""
SLOW_RTT_MS = 2_500.0
"""Recent round trips above this (median) make results noticeably late."""
BEHIND_MS = 3_000
"""The upload trailing the speaker by this much means results are late and loss is near (live)."""
CHECK_INTERVAL_S = 0.25
"""How often the session re-derives the state on the clock (a stall is seen within this)."""


class HealthTracker:
    """Folds events (and the passing of time) into one health state; see the module docstring."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._current: HealthChanged | None = None
        self._started = False
        self._delivered = False
        self._ended: SessionEnded | None = None
        self._fatal: RequestFailed | None = None
        self._stopping = False
        self._paused = False
        self._failing_since: float | None = None
        self._failures = 0
        self._network = 0
        self._last_error = ""
        self._last_chunk_at: float | None = None
        self._in_flight = 0
        self._rollover = False
        self._idle = False
        self._input_done = False
        self._last_audio_at: float | None = None
        self._silent_ms = 0
        self._behind_ms = 0
        self._recent_rtt: tuple[float, ...] = ()

    @property
    def current(self) -> HealthChanged | None:
        """The last state emitted (None before the first)."""
        return self._current

    def stopping(self) -> HealthChanged | None:
        """A stop was asked for (the session calls this; no event says it)."""
        self._stopping = True
        return self.check()

    def observe(self, event: Event) -> HealthChanged | None:
        """Take one event; the new state if it changed."""
        now = self._clock.monotonic()
        if isinstance(event, SessionStarted):
            self._started = True
            self._last_audio_at = now
        elif isinstance(event, ChunkSent):
            self._delivered = True
            self._failing_since = None
            self._failures = 0
            self._network = 0
            self._rollover = False
            self._idle = False
            self._last_audio_at = now
            self._last_chunk_at = now
            if event.is_end:
                self._input_done = True
        elif isinstance(event, RequestRetried):
            self._failed_once(now, event.code, event.message)
        elif isinstance(event, RequestFailed):
            if event.final:
                self._fatal = self._fatal or event
            else:
                self._failed_once(now, event.code, event.message)
        elif isinstance(event, ServiceSessionOpened):
            self._rollover = event.reason == "rollover"
            self._idle = False
            self._input_done = False
            self._last_audio_at = now
            self._last_chunk_at = now
        elif isinstance(event, ServiceSessionClosed):
            self._idle = event.reason == "idle"
            self._input_done = event.reason not in ("idle", "abandoned")
        elif isinstance(event, LevelMeasured):
            self._last_audio_at = now
            self._silent_ms = event.silent_for_ms
        elif isinstance(event, StatsUpdated):
            # Only a live input risks loss by trailing: a file (or a regular file on stdin) that fell behind
            # real time in an outage stays behind at 1:1 for good, which the lag figure shows, not the health.
            live = event.stats.backlog_limit_ms > 0
            self._behind_ms = event.stats.behind_live_ms if live else 0
            self._recent_rtt = event.stats.rtt_recent_ms[-5:]
            self._in_flight = event.stats.in_flight
        elif isinstance(event, Paused):
            self._paused = True
        elif isinstance(event, Resumed):
            self._paused = False
            self._last_audio_at = now
        elif isinstance(event, SessionEnded):
            self._ended = event
        else:
            return None
        return self.check()

    def _failed_once(self, now: float, code: str, message: str) -> None:
        if self._failing_since is None:
            self._failing_since = now
        self._failures += 1
        self._network = self._network + 1 if code in NETWORK_CODES else 0
        self._last_error = f"{code}: {message}" if message else code

    def check(self) -> HealthChanged | None:
        """Re-derive the state now; a `HealthChanged` if it differs from the last one emitted."""
        now = self._clock.monotonic()
        state, reason, detail = self._derive(now)
        current = self._current
        if current is not None and (current.state, current.reason) == (state, reason):
            return None
        self._current = HealthChanged(state=state, reason=reason, detail=detail, since_utc=self._clock.time())
        return self._current

    def _derive(self, now: float) -> tuple[str, str, str]:
        """(state, reason, detail) as of `now`; see the module docstring for the order."""
        ended = self._ended
        if ended is not None:
            failed = ended.exit_code != 0 and ended.reason == "failed"
            return (FAILED if failed else ENDED), ended.reason, ended.message
        if self._fatal is not None:
            return FAILED, self._fatal.code, self._fatal.message
        if self._stopping:
            return STOPPING, "collecting the last results", ""
        if self._paused:
            return PAUSED, "", ""
        failing = self._failing_since is not None
        failing_for = now - (self._failing_since or now)
        if failing and (self._network >= NETWORK_FAILURES or failing_for >= UNREACHABLE_AFTER_S):
            return RECONNECTING, REASON_UNREACHABLE, f"{self._last_error} (×{self._failures})"
        if self._rollover:
            return RECONNECTING, REASON_ROLLOVER, self._last_error
        if not self._started or not self._delivered:
            if failing:
                return STARTING, REASON_RETRYING, self._last_error
            return STARTING, "", ""
        unanswered = now - (self._last_chunk_at if self._last_chunk_at is not None else now)
        if not self._input_done and not failing and self._in_flight and unanswered >= NO_ANSWER_S:
            return DEGRADED, REASON_SLOW, f"no answer for {unanswered:.0f} s"
        if self._idle:
            return STALLED, REASON_NO_AUDIO, "the input gives no audio"
        quiet_for = now - (self._last_audio_at if self._last_audio_at is not None else now)
        if not self._input_done and not failing and quiet_for >= NO_AUDIO_S:
            return STALLED, REASON_NO_AUDIO, f"none for {quiet_for:.0f} s"
        if self._silent_ms >= SILENCE_S * 1000:
            return STALLED, REASON_SILENCE, f"silent for {self._silent_ms // 1000} s"
        if failing:
            return DEGRADED, REASON_RETRYING, f"{self._last_error} (×{self._failures})"
        if self._recent_rtt and statistics.median(self._recent_rtt) >= SLOW_RTT_MS:
            return DEGRADED, REASON_SLOW, f"round trip {statistics.median(self._recent_rtt) / 1000:.1f} s"
        if self._behind_ms >= BEHIND_MS:
            return DEGRADED, REASON_BEHIND, f"{self._behind_ms / 1000:.1f} s behind"
        return LIVE, "", ""

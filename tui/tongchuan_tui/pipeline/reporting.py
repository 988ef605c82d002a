"""What an interpreter session tells its sinks: every event, in order, and what is derived from the events and
the lanes: the stats (`StatsUpdated` every STATS_INTERVAL_S, the whole session's and in a multi-target
session each target's) and the health state (`HealthChanged`, re-derived every CHECK_INTERVAL_S as well,
since a stall has no event of its own).

`SessionReporter` is owned by `session.InterpreterSession`, which hands it every event it and its lanes emit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.pipeline.clock import Clock
from tongchuan_tui.pipeline.events import (
    Event,
    HealthChanged,
    SentenceRevised,
    SessionEnded,
    Sink,
    StatsSnapshot,
    StatsUpdated,
)
from tongchuan_tui.pipeline.fanout import fan_out
from tongchuan_tui.pipeline.health import CHECK_INTERVAL_S, HealthTracker
from tongchuan_tui.pipeline.lag import LagMeter
from tongchuan_tui.pipeline.lane import TargetLane, running_lanes
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.stats import StatsCollector

STATS_INTERVAL_S = 1.0


class SessionReporter:
    """Hands a session's events to its sinks, keeping the session's stats and health state from them.

    `lanes` are the session's target lanes (the first one's transcript is shown); `position_ms` is the
    session's current timeline position; `max_backlog_ms` the live backlog's bound, shown in the stats.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        limits: RateLimits,
        lanes: Sequence[TargetLane],
        position_ms: Callable[[], int],
        max_backlog_ms: int,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self._clock = clock
        self._limits = limits
        self._lanes = lanes
        self._multi = len(lanes) > 1
        self._position_ms = position_ms
        self._max_backlog_ms = max_backlog_ms
        self._sinks: list[Sink] = list(sinks)
        self._broken_sinks: set[int] = set()
        self._stats = StatsCollector(clock)
        self._health = HealthTracker(clock)
        self._lag = LagMeter(clock)

    def add_sink(self, sink: Sink) -> None:
        """Receive every event from now on."""
        self._sinks.append(sink)

    def stopping(self) -> None:
        """The session was asked to stop: the health state says so."""
        self._publish_health(self._health.stopping())

    async def tick(self) -> None:
        """Stats every STATS_INTERVAL_S; the health state re-derived more often (a stall has no event)."""
        next_stats = self._clock.monotonic() + STATS_INTERVAL_S
        while True:
            await self._clock.sleep(min(CHECK_INTERVAL_S, max(0.0, next_stats - self._clock.monotonic())))
            if self._clock.monotonic() >= next_stats:
                next_stats += STATS_INTERVAL_S
                self.emit_stats()
            self._publish_health(self._health.check())

    def emit_stats(self) -> None:
        """The whole session's stats now, and in a multi-target session each target's."""
        self.emit(StatsUpdated(self._snapshot()))
        if self._multi:
            for lane in self._lanes:
                self.emit(StatsUpdated(lane.snapshot(), target=lane.target))

    def _speaker_ms(self) -> int:
        """Where the speaker is on the timeline now: the newest audio (live), or the 1:1 listener (file)."""
        lane = (running_lanes(self._lanes) or self._lanes)[0]
        if lane.backlog.live:
            return self._position_ms()
        return self._position_ms() + lane.scheduler.behind_live_ms()

    def _snapshot(self) -> StatsSnapshot:
        """The whole session's health: every target's requests; the worst backlog and lag."""
        return self._stats.snapshot(
            in_flight=sum(lane.in_flight for lane in self._lanes),
            backlog_ms=max(len(lane.backlog) for lane in self._lanes) // BYTES_PER_MS,
            behind_live_ms=self._behind_live_ms(),
            rate_headroom=self._limits.headroom(),
            backlog_limit_ms=self._max_backlog_ms if self._lanes[0].backlog.live else 0,
        )

    def _behind_live_ms(self) -> int:
        """Lag for every kind of input: the unsent backlog (live), or against real time (file, stdin file)."""
        lanes = running_lanes(self._lanes) or self._lanes
        if lanes[0].backlog.live:
            return max(lane.scheduler.behind_live_ms() for lane in lanes)
        return self._lag.sample(
            waiting=any(len(lane.backlog) > 0 for lane in lanes),
            paused=lanes[0].scheduler.paused,
            sent_ms=min(lane.scheduler.sent_end for lane in lanes) // BYTES_PER_MS,
        )

    def emit(self, event: Event) -> None:
        """Hand an event to the stats, the health tracker and every sink, in order.

        A change of health follows the event that caused it, but for the end: `SessionEnded` stays last.
        (A target's own stats, `StatsUpdated` with a target, are for that target's pane only.)
        """
        whole = not (isinstance(event, StatsUpdated) and event.target)
        if whole:
            self._stats.observe(event)
        if isinstance(event, SentenceRevised):
            self._stats.sentence_shown(event.sentence, self._speaker_ms())
        if isinstance(event, SessionEnded):
            self._publish_health(self._health.observe(event))
            self._publish(event)
            return
        self._publish(event)
        if whole:
            self._publish_health(self._health.observe(event))

    def _publish_health(self, changed: HealthChanged | None) -> None:
        if changed is not None:
            self._publish(changed)

    def _publish(self, event: Event) -> None:
        """Hand an event to every sink, in order; a failing sink is reported once."""
        for warning in fan_out(list(self._sinks), event, self._broken_sinks):
            self.emit(warning)

"""The health state on a fake clock, fed the event sequences each fault the emulator injects produces."""

from __future__ import annotations

import io
import json

from tongchuan_tui.pipeline import health
from tongchuan_tui.pipeline.clock import FakeClock
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
    StatsSnapshot,
    StatsUpdated,
    event_from_json,
)
from tongchuan_tui.pipeline.sinks import JsonlSink

STARTED = SessionStarted(0.0, "talk.wav", "zh", "en", "sync", 200, "127.0.0.1", True)


def chunk(seq: int = 0, *, is_end: bool = False) -> ChunkSent:
    return ChunkSent(seq, "u", seq * 200, 200, 6400, seq * 200, 120.0, "r", 0, is_end)


def retried(code: str = "InternalError", attempt: int = 1) -> RequestRetried:
    return RequestRetried("TongChuanSync", 3, attempt, code, "it failed", 250)


class Run:
    """A tracker on a fake clock, and every state it emitted."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.tracker = health.HealthTracker(self.clock)
        self.changes: list[HealthChanged] = []

    def feed(self, *events: Event) -> None:
        for event in events:
            changed = self.tracker.observe(event)
            if changed is not None:
                self.changes.append(changed)

    async def wait(self, seconds: float) -> None:
        """Let time pass, checking as often as the session does."""
        steps = round(seconds / health.CHECK_INTERVAL_S)
        for _ in range(steps):
            await self.clock.advance(health.CHECK_INTERVAL_S)
            changed = self.tracker.check()
            if changed is not None:
                self.changes.append(changed)

    @property
    def state(self) -> tuple[str, str]:
        current = self.tracker.current
        assert current is not None
        return current.state, current.reason


def live_run() -> Run:
    run = Run()
    run.feed(STARTED, ServiceSessionOpened("u", 0, 0, "start"), chunk(0))
    return run


def test_starting_until_the_first_packet_is_delivered_then_live() -> None:
    run = Run()
    run.feed(STARTED)
    assert run.state == ("starting", "")
    run.feed(ServiceSessionOpened("u", 0, 0, "start"), chunk(0))
    assert run.state == ("live", "")
    assert [c.state for c in run.changes] == ["starting", "live"]


async def test_a_lost_service_is_unreachable_at_the_second_network_error_and_live_after() -> None:
    # The emulator killed: connection refused at once, retried at 0.25, 0.5, 1 s...
    run = live_run()
    run.feed(retried("NetworkError", 1))
    assert run.state == ("degraded", "retrying"), "one reset is only a retry"
    await run.wait(0.25)
    run.feed(retried("NetworkError", 2))
    assert run.state == ("reconnecting", "service unreachable")
    assert "NetworkError" in run.changes[-1].detail
    since = run.changes[-1].since_utc
    await run.wait(1.0)
    run.feed(retried("NetworkError", 3))
    assert run.changes[-1].since_utc == since, "the same trouble is not re-announced"
    # The gap rule gives up: a rollover opens a new service session; it delivers.
    run.feed(ServiceSessionClosed("u", 0, "abandoned"), ServiceSessionOpened("v", 1, 0, "rollover"))
    assert run.state == ("reconnecting", "service unreachable")
    run.feed(chunk(0))
    assert run.state == ("live", "")


async def test_retries_of_an_api_error_are_degraded_then_unreachable_if_they_last() -> None:
    run = live_run()
    run.feed(retried("InternalError"))
    assert run.state == ("degraded", "retrying")
    await run.wait(health.UNREACHABLE_AFTER_S)
    assert run.state == ("reconnecting", "service unreachable")
    run.feed(chunk(1))
    assert run.state == ("live", "")


async def test_a_stalled_answer_is_slow_then_a_rollover_reconnects() -> None:
    run = live_run()
    run.feed(StatsUpdated(StatsSnapshot(in_flight=1)))
    await run.wait(health.NO_ANSWER_S)
    assert run.state == ("degraded", "slow")
    run.feed(ServiceSessionClosed("u", 0, "abandoned"), ServiceSessionOpened("v", 1, 0, "rollover"))
    assert run.state == ("reconnecting", "rollover")
    run.feed(chunk(0))
    assert run.state == ("live", "")


def test_high_latency_is_slow_and_a_backlog_is_behind() -> None:
    run = live_run()
    run.feed(StatsUpdated(StatsSnapshot(rtt_recent_ms=(3000.0, 2900.0, 3100.0))))
    assert run.state == ("degraded", "slow")
    live_input = 30_000  # backlog_limit_ms: a live input, whose audio is lost past its bound
    run.feed(
        StatsUpdated(
            StatsSnapshot(rtt_recent_ms=(200.0,) * 5, behind_live_ms=4000, backlog_limit_ms=live_input)
        )
    )
    assert run.state == ("degraded", "behind")
    run.feed(
        StatsUpdated(
            StatsSnapshot(rtt_recent_ms=(200.0,) * 5, behind_live_ms=200, backlog_limit_ms=live_input)
        )
    )
    assert run.state == ("live", "")


def test_a_file_behind_real_time_after_an_outage_is_live_again() -> None:
    # A file paced 1:1 never catches up what an outage cost it: the lag is shown, but nothing is being lost.
    run = live_run()
    run.feed(StatsUpdated(StatsSnapshot(rtt_recent_ms=(200.0,) * 5, behind_live_ms=4000, backlog_limit_ms=0)))
    assert run.state == ("live", "")


def test_failed_operation_rolls_over() -> None:
    run = live_run()
    run.feed(RequestFailed("TongChuanSync", 4, "FailedOperation", "The operation failed.", final=False))
    run.feed(ServiceSessionClosed("u", 0, "abandoned"), ServiceSessionOpened("v", 1, 0, "rollover"))
    assert run.state[0] == "reconnecting"
    run.feed(chunk(0))
    assert run.state == ("live", "")


async def test_no_audio_arriving_and_silence_are_stalled_input() -> None:
    run = live_run()
    run.feed(LevelMeasured(-20.0, -10.0, False, 0))
    await run.wait(health.NO_AUDIO_S)
    assert run.state == ("stalled", "no audio arriving")
    run.feed(LevelMeasured(-80.0, -80.0, False, 11_000))
    assert run.state == ("stalled", "silence")
    run.feed(LevelMeasured(-20.0, -10.0, False, 0))
    assert run.state == ("live", "")
    run.feed(ServiceSessionClosed("u", 0, "idle"))
    assert run.state == ("stalled", "no audio arriving")


async def test_the_end_of_a_file_is_not_a_stall() -> None:
    run = live_run()
    run.feed(chunk(1, is_end=True), ServiceSessionClosed("u", 0, "input-ended"))
    await run.wait(5.0)
    assert run.state == ("live", "")


def test_pause_stop_end_and_failure() -> None:
    run = live_run()
    run.feed(Paused(1000))
    assert run.state == ("paused", "")
    run.feed(Resumed(1000))
    assert run.state == ("live", "")
    changed = run.tracker.stopping()
    assert changed is not None
    assert changed.state == "stopping"
    run.feed(SessionEnded("stopped", 2000, 0))
    assert run.state == ("ended", "stopped")

    rejected = live_run()
    rejected.feed(RequestFailed("TongChuanSync", 1, "AuthFailure.SignatureFailure", "bad", final=True))
    assert rejected.state == ("failed", "AuthFailure.SignatureFailure")
    rejected.feed(SessionEnded("failed", 400, 3, "AuthFailure.SignatureFailure: bad"))
    assert rejected.state == ("failed", "failed")


def test_the_health_state_reaches_jsonl_and_the_journal_form_round_trips() -> None:
    stream = io.StringIO()
    changed = HealthChanged("reconnecting", "service unreachable", "NetworkError (×2)", 1_700_000_000.5)
    JsonlSink(stream)(changed)
    line = json.loads(stream.getvalue())
    assert line["type"] == "HealthChanged"
    assert (line["state"], line["reason"]) == ("reconnecting", "service unreachable")
    assert event_from_json(line) == changed

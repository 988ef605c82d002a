"""Replaying a journal: events at the recorded pace (virtual time), speed, pause, stop, crashed journals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.unit.journal_helpers import session_events, write_session

from tongchuan_tui import exitcodes
from tongchuan_tui.config import log_file
from tongchuan_tui.journal.reader import Journal, read_journal
from tongchuan_tui.journal.replay import ReplaySession
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    MarkAdded,
    Paused,
    Resumed,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    WarningRaised,
)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    path = tmp_path / "s.jsonl"
    write_session(path, session_events(3))
    return read_journal(path)


@pytest.fixture
def crashed(tmp_path: Path) -> Journal:
    path = tmp_path / "crashed.jsonl"
    write_session(path, session_events(2, end=False), close=False)
    return read_journal(path)


class Recorder:
    """A sink noting each event with the virtual time it arrived."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.start = clock.monotonic()
        self.seen: list[tuple[float, Event]] = []

    def __call__(self, event: Event) -> None:
        self.seen.append((round(self.clock.monotonic() - self.start, 6), event))

    @property
    def events(self) -> list[Event]:
        return [e for _, e in self.seen]


@pytest.mark.parametrize("speed", [1.0, 2.0])
async def test_events_come_at_the_recorded_times_divided_by_speed(journal: Journal, speed: float) -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    replay = ReplaySession(journal, speed, clock=clock)
    replay.add_sink(sink)
    assert await clock.run(replay.run()) == exitcodes.OK
    assert isinstance(sink.events[0], SessionStarted)
    assert sink.events[0].input == "talk.wav"
    assert isinstance(sink.events[-1], SessionEnded)
    assert sink.events[-1].reason == "input-ended"
    replayed = [(t, e) for t, e in sink.seen[1:-1]]
    expected = [
        (round(r.t / speed, 6), r.event) for r in journal.events if not isinstance(r.event, SessionEnded)
    ]
    assert replayed == expected
    assert sum(isinstance(e, SentenceRevised) for e in sink.events) == 9


async def test_max_speed_replays_without_waiting(journal: Journal) -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    replay = ReplaySession(journal, None, clock=clock, sinks=[sink])
    assert await replay.run() == exitcodes.OK
    assert {t for t, _ in sink.seen} == {0.0}
    assert len(sink.events) == len(journal.events) + 1


async def test_pause_holds_playback_and_resume_continues(journal: Journal) -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    replay = ReplaySession(journal, 1.0, clock=clock, sinks=[sink])
    task = asyncio.ensure_future(replay.run())
    await clock.advance(1.0)
    replay.pause()
    assert isinstance(sink.events[-1], Paused)
    assert replay.paused
    count = len(sink.events)
    await clock.advance(30.0)
    assert len(sink.events) == count  # nothing plays while paused
    replay.resume()
    assert isinstance(sink.events[-1], Resumed)
    await clock.run(task)
    # Everything after the pause is shifted by the 30 s paused.
    first_after = next(t for t, e in sink.seen if isinstance(e, SentenceRevised) and t > 1.0)
    assert first_after == pytest.approx(30.0 + 1.4)
    assert isinstance(sink.events[-1], SessionEnded)


async def test_stop_ends_playback_with_session_ended_last(journal: Journal) -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    replay = ReplaySession(journal, 1.0, clock=clock, sinks=[sink])
    task = asyncio.ensure_future(replay.run())
    await clock.advance(3.5)
    replay.stop()
    assert await task == exitcodes.OK
    last = sink.events[-1]
    assert isinstance(last, SessionEnded)
    assert last.reason == "stopped"
    assert max(t for t, _ in sink.seen) <= 3.5
    assert sum(isinstance(e, ChunkSent) for e in sink.events) == 6  # those at 0, .2, .4, 3, 3.2, 3.4 s


async def test_mark_shows_at_the_playback_position(journal: Journal) -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    replay = ReplaySession(journal, 1.0, clock=clock, sinks=[sink])
    task = asyncio.ensure_future(replay.run())
    await clock.advance(2.5)
    replay.mark("here")
    assert sink.events[-1] == MarkAdded(at_ms=2500, label="here")
    replay.stop()
    await task


async def test_crashed_journal_ends_with_a_synthesized_session_ended(crashed: Journal) -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    await clock.run(ReplaySession(crashed, 2.0, clock=clock, sinks=[sink]).run())
    last = sink.events[-1]
    assert isinstance(last, SessionEnded)
    assert "killed or crashed" in last.message


async def test_a_failing_sink_is_reported_once_and_playback_goes_on(journal: Journal) -> None:
    clock = FakeClock()
    good = Recorder(clock)

    def bad(event: Event) -> None:
        raise RuntimeError("display broke")

    await ReplaySession(journal, None, clock=clock, sinks=[bad, good]).run()
    warnings = [e for e in good.events if isinstance(e, WarningRaised)]
    assert len(warnings) == 1
    # "see the log file" is only useful with the file's path: the user has nowhere else to look.
    assert str(log_file()) in warnings[0].message
    assert isinstance(good.events[-1], SessionEnded)


def test_speed_must_be_positive(journal: Journal) -> None:
    with pytest.raises(ValueError, match="positive"):
        ReplaySession(journal, 0)

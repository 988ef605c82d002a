"""The session as the UI and CLI use it, on a fake service, fake source and fake clock: ending, stop reasons,
pause/resume, marks, switching input, levels, stats, sinks and the audio tap."""

from __future__ import annotations

import io
import itertools
import json

import pytest
from pipeline_fakes import BPMS, Cue, FakeService, FakeSource, Run, Script, cues_for, make_pcm, run_session

from tongchuan_tui import exitcodes
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    Event,
    HealthChanged,
    InputChanged,
    LevelMeasured,
    MarkAdded,
    Paused,
    Resumed,
    Sentence,
    SentenceRevised,
    ServiceSessionClosed,
    ServiceSessionOpened,
    SessionEnded,
    SessionStarted,
    StatsUpdated,
    WarningRaised,
    event_from_json,
)
from tongchuan_tui.pipeline.session import InterpreterSession, SessionOptions
from tongchuan_tui.pipeline.sinks import JsonlSink, PlainSink


def ended(run: Run) -> SessionEnded:
    event = run.events[-1][1]
    assert isinstance(event, SessionEnded)
    return event


def stop_at(seconds: float, reason: str | None = None) -> Script:
    async def script(session: InterpreterSession, clock: FakeClock) -> None:
        await clock.sleep(seconds)
        if reason is None:
            session.stop()
        else:
            session.stop(reason)

    return script


async def test_events_start_with_session_started_and_end_with_session_ended() -> None:
    run = await run_session(make_pcm(1500), live=True, input_description="file:x.wav", chunk_ms=300)
    first = run.events[0][1]
    assert isinstance(first, SessionStarted)
    assert first.input == "file:x.wav"
    assert first.chunk_ms == 300
    assert ended(run).reason == "input-ended"
    assert sum(isinstance(e, (SessionStarted, SessionEnded)) for _, e in run.events) == 2


async def test_end_of_input_pads_the_last_packet_to_200_ms_with_is_end() -> None:
    pcm = make_pcm(1050)
    run = await run_session(pcm, live=True)
    uploads = run.service.uploads()
    last = uploads[-1]
    assert last.is_end
    assert len(last.data) == 200 * BPMS
    assert last.data[: 50 * BPMS] == pcm[1000 * BPMS :]
    assert last.data[50 * BPMS :] == bytes(150 * BPMS)
    assert not any(c.is_end for c in uploads[:-1])
    closed = run.of(ServiceSessionClosed)
    assert [e.reason for e in closed if isinstance(e, ServiceSessionClosed)] == ["input-ended"]
    assert ended(run).exit_code == exitcodes.OK
    # Every sentence heard is final, once, at the end.
    assert [s.source_text for s in run.final_sentences()] == ["S0"]


@pytest.mark.parametrize(
    ("reason", "code"),
    [(None, exitcodes.OK), ("interrupted", exitcodes.INTERRUPTED), ("terminated", exitcodes.TERMINATED)],
)
async def test_stop_sends_what_was_said_with_is_end_and_exits_with_the_reason_code(
    reason: str | None, code: int
) -> None:
    pcm = make_pcm(30_000)
    run = await run_session(pcm, live=True, script=stop_at(2.05, reason))
    assert run.code == code
    assert ended(run).reason == (reason or "stopped")
    uploads = run.service.uploads()
    assert uploads[-1].is_end
    # All audio spoken before the stop (2.05 s of it) went out, nothing after.
    heard = sum(len(c.data.rstrip(b"\0")) for c in uploads)
    assert heard == 2040 * BPMS  # the source delivers 20 ms pieces: 2.04 s had arrived at 2.05 s
    assert run.events[-1][0] - run.events[0][0] < 2.5


async def test_stop_with_nothing_left_sends_an_all_zero_is_end_packet() -> None:
    clock = FakeClock()
    pcm = make_pcm(1000)
    source = FakeSource(pcm + make_pcm(1000, seed=9), clock, live=True, stall_at_ms=1000, stall_s=60)
    run = await run_session(pcm, clock=clock, source=source, script=stop_at(1.5))
    last = run.service.uploads()[-1]
    assert last.is_end
    assert last.data == bytes(200 * BPMS)
    assert run.code == exitcodes.OK


async def test_the_wait_for_last_results_is_bounded_and_open_sentences_end_as_last_seen() -> None:
    pcm = make_pcm(1500)
    # The service never finalizes the sentence cut off by the end of input, even after IsEnd.
    cues = [Cue(0, 100, 800), Cue(1, 1100, 2500)]
    run = await run_session(pcm, live=True, cues=cues, mode="split", finalize_on_end=False, end_timeout_s=2.0)
    assert run.code == exitcodes.OK
    is_end_at = next(c.ended_at for c in run.service.uploads() if c.is_end)
    assert 2.0 <= run.events[-1][0] - is_end_at <= 2.0 + 0.3 + 1e-9  # the timeout, plus one poll interval
    assert [(s.source_text, s.final) for s in run.final_sentences()] == [("S0", True), ("S1~", True)]
    polls_after_end = [c for c in run.service.calls if c.action == "TongChuanDisplay" and c.at > is_end_at]
    assert len(polls_after_end) >= 5


async def test_second_stop_does_not_wait_for_late_results() -> None:
    pcm = make_pcm(30_000)

    async def script(session: InterpreterSession, clock: FakeClock) -> None:
        await clock.sleep(1.55)
        session.stop("interrupted")
        await clock.sleep(0.5)
        session.stop("interrupted")

    cues = [Cue(0, 100, 20_000)]
    run = await run_session(
        pcm, live=True, script=script, cues=cues, mode="split", finalize_on_end=False, end_timeout_s=60.0
    )
    assert run.code == exitcodes.INTERRUPTED
    assert run.events[-1][0] - run.events[0][0] == pytest.approx(2.05)
    assert [(s.source_text, s.final) for s in run.final_sentences()] == [("S0~", True)]


async def test_pause_ends_the_service_session_discards_live_audio_and_resume_continues_the_timeline() -> None:
    pcm = make_pcm(6000)

    async def script(session: InterpreterSession, clock: FakeClock) -> None:
        await clock.sleep(2.01)
        session.pause()
        await clock.sleep(2.0)
        session.resume()

    run = await run_session(pcm, live=True, script=script)
    assert run.code == exitcodes.OK
    paused = run.of(Paused)
    resumed = run.of(Resumed)
    assert len(paused) == 1
    assert len(resumed) == 1
    assert isinstance(paused[0], Paused)
    assert isinstance(resumed[0], Resumed)
    assert paused[0].at_ms == 2000  # 20 ms pieces: the last one before the pause ended at 2.0 s
    assert resumed[0].at_ms == paused[0].at_ms
    closed = [e for e in run.of(ServiceSessionClosed) if isinstance(e, ServiceSessionClosed)]
    opened = [e for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)]
    assert [c.reason for c in closed] == ["paused", "input-ended"]
    assert [(o.reason, o.offset_ms) for o in opened] == [("start", 0), ("resume", 2000)]
    # Nothing sent while paused; audio spoken while paused was discarded, not counted as dropped.
    pause_t, resume_t = run.timed(Paused)[0][0], run.timed(Resumed)[0][0]
    closing = run.service.uploads()[len([c for c in run.service.uploads() if c.index == 0]) - 1]
    assert closing.is_end
    assert not [c for c in run.service.uploads() if pause_t < c.at < resume_t and c is not closing]
    assert run.of(AudioDropped) == []
    delivered = run.service.delivered()
    assert delivered[0][0] == 0
    gap = [(a, b) for (_, a), (b, _) in itertools.pairwise(delivered) if a != b]
    assert gap == [(2000 * BPMS, 4000 * BPMS)]
    assert delivered[-1][1] == len(pcm)


async def test_pausing_a_file_stops_reading_it_and_loses_nothing() -> None:
    pcm = make_pcm(4000)

    reads: list[int] = []

    async def script(session: InterpreterSession, clock: FakeClock) -> None:
        await clock.sleep(1.1)
        session.pause()
        await clock.sleep(1.0)
        reads.append(run_source.read)
        await clock.sleep(4.0)
        reads.append(run_source.read)
        session.resume()

    clock = FakeClock()
    run_source = FakeSource(pcm, clock, live=False)
    run = await run_session(pcm, clock=clock, source=run_source, script=script, max_backlog_ms=1000)
    assert run.code == exitcodes.OK
    assert reads[0] == reads[1]  # not read while paused
    assert reads[0] < len(pcm)
    merged = run.service.delivered()
    assert merged[0][0] == 0
    assert all(a == b for (_, a), (b, _) in itertools.pairwise(merged))
    assert merged[-1][1] == len(pcm)
    opened = [e for e in run.of(ServiceSessionOpened) if isinstance(e, ServiceSessionOpened)]
    assert [o.reason for o in opened] == ["start", "resume"]


async def test_mark_is_placed_at_the_current_timeline_position() -> None:
    async def script(session: InterpreterSession, clock: FakeClock) -> None:
        await clock.sleep(1.25)
        session.mark("question")

    run = await run_session(make_pcm(2000), live=True, script=script)
    marks = run.of(MarkAdded)
    assert marks == [MarkAdded(at_ms=1240, label="question")]


async def test_switching_the_source_continues_with_the_new_audio() -> None:
    clock = FakeClock()
    first = make_pcm(3000)
    second = make_pcm(1500, seed=5)
    both = first[: 1000 * BPMS] + second
    source_b = FakeSource(second, clock, live=True, description="mic:B")

    async def script(session: InterpreterSession, clock: FakeClock) -> None:
        await clock.sleep(1.01)
        await session.switch_source(source_b)

    source_a = FakeSource(first, clock, live=True, description="mic:A")
    run = await run_session(both, clock=clock, source=source_a, script=script)
    assert run.code == exitcodes.OK
    changed = run.of(InputChanged)
    assert changed == [InputChanged(at_ms=1000, input="mic:B")]
    assert source_a.stopped
    heard = b"".join(c.data.rstrip(b"\0") for c in run.service.uploads())
    assert heard == both


async def test_input_error_midway_ends_with_bad_input_after_sending_what_was_read() -> None:
    clock = FakeClock()
    pcm = make_pcm(3000)
    source = FakeSource(pcm, clock, live=True, fail_at_ms=1000)
    run = await run_session(pcm, clock=clock, source=source)
    assert run.code == exitcodes.BAD_INPUT
    assert ended(run).message == "the stream broke"
    assert b"".join(c.data.rstrip(b"\0") for c in run.service.uploads()) == pcm[: 1000 * BPMS]


async def test_an_input_that_cannot_start_ends_with_bad_input() -> None:
    clock = FakeClock()
    pcm = make_pcm(100)
    source = FakeSource(pcm, clock, live=True, start_error="no such file: x.wav (check the path)")
    run = await run_session(pcm, clock=clock, source=source)
    assert run.code == exitcodes.BAD_INPUT
    names = [type(e).__name__ for _, e in run.events]
    assert [n for n in names if n != "HealthChanged"] == ["SessionStarted", "StatsUpdated", "SessionEnded"]
    health = [e for _, e in run.events if isinstance(e, HealthChanged)]
    assert (health[-1].state, health[-1].detail) == ("failed", "no such file: x.wav (check the path)")
    assert ended(run).message == "no such file: x.wav (check the path)"
    assert run.service.calls == []


async def test_levels_come_every_100_ms_of_audio_and_stats_every_second() -> None:
    pcm = make_pcm(3000)
    run = await run_session(pcm, live=True)
    levels = [e for e in run.of(LevelMeasured) if isinstance(e, LevelMeasured)]
    assert len(levels) == 30
    assert all(-20 < e.dbfs < 0 for e in levels)  # uniform noise is loud
    assert levels[-1].silent_for_ms == 0
    ticks = [t for t, e in run.timed(StatsUpdated)]
    assert len(ticks) >= 3
    final = run.of(StatsUpdated)[-1]
    assert isinstance(final, StatsUpdated)
    stats = final.stats
    assert stats.requests_ok == len(run.service.uploads())
    assert stats.audio_sent_ms == sum(len(c.data) for c in run.service.uploads()) // BPMS
    assert stats.service_sessions == 1
    assert stats.rate_headroom.keys() == {"TongChuanSync", "TongChuanRecognize", "TongChuanDisplay"}


async def test_silence_is_measured_as_silent() -> None:
    pcm = bytes(1000 * BPMS)
    run = await run_session(pcm, live=True, cues=[])
    levels = [e for e in run.of(LevelMeasured) if isinstance(e, LevelMeasured)]
    assert levels[-1].silent_for_ms == 1000


async def test_the_audio_tap_gets_each_packet_once_as_first_sent() -> None:
    pcm = make_pcm(1100)
    tapped: list[bytes] = []
    run = await run_session(pcm, live=True, audio_tap=tapped.append)
    assert b"".join(tapped) == b"".join(c.data for c in run.service.uploads())
    assert b"".join(tapped).rstrip(b"\0") == pcm


async def test_a_failing_sink_is_reported_once_and_does_not_stop_the_session() -> None:
    clock = FakeClock()
    pcm = make_pcm(1500)
    calls = 0

    def broken(event: Event) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("disk full")

    events: list[Event] = []
    session = InterpreterSession(
        SessionOptions(),
        FakeService(clock, pcm, cues_for(1500)),
        FakeSource(pcm, clock, live=True),
        clock=clock,
        sinks=[broken, events.append],
    )
    code = await clock.run(session.run())
    assert code == exitcodes.OK
    warnings = [e for e in events if isinstance(e, WarningRaised)]
    assert len(warnings) == 1
    assert "disk full" in warnings[0].message
    assert calls > 5
    assert isinstance(events[-1], SessionEnded)


async def test_plain_sink_prints_each_final_sentence_once_with_its_time() -> None:
    out = io.StringIO()
    sink = PlainSink(out)
    draft = Sentence("0:1", 0, "1", 1, "大家", "Every", 65_000, 66_000, False)
    final = Sentence("0:1", 0, "1", 2, "大家好", "Hello everyone", 65_000, 67_000, True)
    for sentence in (draft, final, final):
        sink(SentenceRevised(sentence))
    sink(SessionEnded("input-ended", 70_000, 0))
    assert out.getvalue().splitlines() == ["[01:05] 大家好", "           Hello everyone"]


async def test_jsonl_sink_writes_every_event_as_one_json_line() -> None:
    run = await run_session(make_pcm(1200), live=True)
    out = io.StringIO()
    sink = JsonlSink(out)
    for _, event in run.events:
        sink(event)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(run.events)
    assert [event_from_json(json.loads(line)) for line in lines] == [e for _, e in run.events]

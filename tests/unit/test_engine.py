"""The session engine and the threaded subscriber: the session on a thread of its own, commands from any
thread applied in order on it, events to every subscriber, slow subscribers off the session's thread, and
the interpreter tuned for pacing while it runs."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading

import pytest

from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.pipeline.engine import SessionEngine
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    MarkAdded,
    Paused,
    Resumed,
    SessionEnded,
    SessionStarted,
    Sink,
    WarningRaised,
)
from tongchuan_tui.pipeline.offload import ThreadedSink
from tongchuan_tui.pipeline.realtime import (
    FULL_EVERY_S,
    IDLE_AFTER_S,
    OVERDUE_S,
    SWITCH_INTERVAL_S,
    RealtimeRuntime,
)

BOUND_S = 5.0


class LoopSession:
    """A session that runs until stopped, emitting what it is told; records on which thread each call ran."""

    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self.threads: dict[str, set[int]] = {}
        self.stops: list[str] = []
        self._stopped: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.switched: list[str] = []

    def _note(self, what: str) -> None:
        self.threads.setdefault(what, set()).add(threading.get_ident())

    def _emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink(event)

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)

    async def run(self) -> int:
        self._note("run")
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._emit(SessionStarted(0.0, "test", "zh", "en", "sync", 200, "127.0.0.1", True))
        await self._stopped.wait()
        self._emit(SessionEnded(self.stops[0], 0, 0))
        return 0

    def stop(self, reason: str = "stopped") -> None:
        self._note("stop")
        self.stops.append(reason)
        if self._stopped is not None:
            self._stopped.set()

    def pause(self) -> None:
        self._note("pause")
        self._emit(Paused(0))

    def resume(self) -> None:
        self._note("resume")
        self._emit(Resumed(0))

    def mark(self, label: str = "") -> None:
        self._note("mark")
        self._emit(MarkAdded(0, label))

    async def switch_source(self, spec: str) -> None:
        self._note("switch")
        if spec == "mic:broken":
            raise AudioInputError("mic:broken: no such device")
        self.switched.append(spec)


def test_commands_from_other_threads_run_in_order_on_the_engine_thread() -> None:
    session = LoopSession()
    engine = SessionEngine(session)
    seen: list[tuple[Event, int]] = []
    engine.add_sink(lambda event: seen.append((event, threading.get_ident())))
    engine.mark("before the start")  # kept, and applied once the loop runs
    engine.start()

    def commander() -> None:
        engine.pause()
        engine.resume()
        for n in range(20):
            engine.mark(f"mark {n}")
        engine.stop("stopped")

    others = [threading.Thread(target=commander)]
    for thread in others:
        thread.start()
        thread.join(BOUND_S)
    assert engine.wait(BOUND_S) == 0
    assert engine.finished

    events = [event for event, _ in seen]
    assert isinstance(events[0], SessionStarted)
    assert isinstance(events[-1], SessionEnded)
    labels = [e.label for e in events if isinstance(e, MarkAdded)]
    assert labels == ["before the start", *(f"mark {n}" for n in range(20))]
    assert [type(e) for e in events if isinstance(e, Paused | Resumed)] == [Paused, Resumed]
    # Everything ran on the engine's one thread, none on the callers'.
    (engine_thread,) = session.threads["run"]
    assert engine_thread not in {threading.get_ident(), *(t.ident for t in others)}
    assert all(threads == {engine_thread} for threads in session.threads.values())
    assert {thread for _, thread in seen} == {engine_thread}
    assert session.stops == ["stopped"]


async def test_run_awaits_the_session_without_blocking_the_callers_loop() -> None:
    session = LoopSession()
    engine = SessionEngine(session)
    ended = asyncio.Event()
    loop = asyncio.get_running_loop()
    engine.add_sink(
        lambda event: loop.call_soon_threadsafe(ended.set) if isinstance(event, SessionEnded) else None
    )
    runner = asyncio.ensure_future(engine.run())
    ticks = 0
    while session.loop is None and ticks < 500:  # this loop keeps running while the session does
        await asyncio.sleep(0.01)
        ticks += 1
    assert session.loop is not None
    assert session.loop is not loop
    await engine.switch_source("mic:2")
    with pytest.raises(AudioInputError, match="no such device"):
        await engine.switch_source("mic:broken")
    engine.stop()
    assert await asyncio.wait_for(runner, BOUND_S) == 0
    assert ended.is_set()
    assert session.switched == ["mic:2"]
    with pytest.raises(AudioInputError, match="has ended"):
        await engine.switch_source("mic:3")


def test_a_failing_subscriber_is_reported_once_and_the_others_go_on() -> None:
    session = LoopSession()
    engine = SessionEngine(session)

    def broken(event: Event) -> None:
        raise ValueError("viewer gone")

    seen: list[Event] = []
    engine.add_sink(broken)
    engine.add_sink(seen.append)
    engine.start()
    engine.mark("a")
    engine.mark("b")
    engine.stop()
    assert engine.wait(BOUND_S) == 0
    warnings = [e for e in seen if isinstance(e, WarningRaised)]
    assert len(warnings) == 1
    assert "viewer gone" in warnings[0].message
    assert [e.label for e in seen if isinstance(e, MarkAdded)] == ["a", "b"]
    assert isinstance(seen[-1], SessionEnded)


def test_a_removed_subscriber_hears_nothing_more() -> None:
    session = LoopSession()
    engine = SessionEngine(session)
    seen: list[Event] = []
    engine.add_sink(seen.append)
    engine.start()
    engine.mark("heard")
    engine.stop()
    engine.wait(BOUND_S)
    assert any(isinstance(e, MarkAdded) for e in seen)
    engine.remove_sink(seen.append)
    count = len(seen)
    engine.mark("unheard")  # the session is over: the command is dropped, nothing is published
    assert len(seen) == count


def test_threaded_sink_never_makes_the_caller_wait_and_keeps_the_order() -> None:
    release = threading.Event()
    handled: list[tuple[int, int]] = []
    closed_on: list[int] = []

    def slow(item: int) -> None:
        release.wait(BOUND_S)  # a disk that stalls
        handled.append((item, threading.get_ident()))

    sink: ThreadedSink[int] = ThreadedSink(
        slow, name="slow", on_close=lambda: closed_on.append(threading.get_ident())
    )
    for n in range(100):
        sink(n)  # returns at once although the target is stuck
    assert handled == []
    release.set()
    assert sink.close(BOUND_S)
    assert [item for item, _ in handled] == list(range(100))
    workers = {thread for _, thread in handled}
    assert len(workers) == 1
    assert threading.get_ident() not in workers
    assert closed_on == list(workers)  # closed on its thread, after the last item
    sink(100)  # after close: ignored
    assert len(handled) == 100


def test_threaded_sink_bounds_what_it_holds_and_counts_what_it_dropped() -> None:
    release = threading.Event()
    handled: list[int] = []

    def slow(item: int) -> None:
        release.wait(BOUND_S)
        handled.append(item)

    sink: ThreadedSink[int] = ThreadedSink(slow, name="bounded", max_pending=10)
    sink(0)
    assert sink.drained(0.0) is False
    for n in range(1, 51):
        sink(n)
    release.set()
    assert sink.drained(BOUND_S)
    sink.close(BOUND_S)
    assert sink.dropped > 0
    assert len(handled) + sink.dropped == 51
    assert handled[-10:] == list(range(41, 51))  # the newest are kept


def test_threaded_sink_survives_a_failing_target() -> None:
    handled: list[int] = []

    def flaky(item: int) -> None:
        if item % 2:
            raise OSError("disk full")
        handled.append(item)

    sink: ThreadedSink[int] = ThreadedSink(flaky, name="flaky")
    for n in range(6):
        sink(n)
    assert sink.close(BOUND_S)
    assert handled == [0, 2, 4]


def chunk(duration_ms: int, round_trip_ms: float, *, is_end: bool = False) -> ChunkSent:
    return ChunkSent(0, "uuid", 0, duration_ms, duration_ms * 32, 0, round_trip_ms, "req", 0, is_end)


def test_realtime_runtime_collects_in_quiet_moments_and_restores_the_interpreter() -> None:
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    now = [100.0]
    runtime = RealtimeRuntime(clock=lambda: now[0])
    runtime.install()
    try:
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
        assert gc.get_threshold()[:2] == threshold[:2]
        assert gc.get_threshold()[2] > threshold[2]  # full collections no longer start on their own
        now[0] += FULL_EVERY_S + 0.1
        runtime.observe(chunk(200, 180.0))  # the next packet is 20 ms away: not now
        assert runtime.full_collections == 0
        runtime.observe(chunk(200, 5.0))  # answered at once: most of a packet to spare
        assert runtime.full_collections == 1
        runtime.observe(chunk(200, 5.0))  # not due again yet
        assert runtime.full_collections == 1
        now[0] += FULL_EVERY_S
        runtime.observe(chunk(200, 180.0))
        runtime.tick()  # packets are flowing (the last one just now): the timer leaves them alone
        assert runtime.full_collections == 1
        now[0] += IDLE_AFTER_S
        runtime.tick()  # nothing paced any more (paused): any moment is quiet
        assert runtime.full_collections == 2
        now[0] += OVERDUE_S
        runtime.observe(chunk(200, 250.0))  # answers slower than packets: overdue, collected anyway
        assert runtime.full_collections == 3
    finally:
        runtime.uninstall()
    assert sys.getswitchinterval() == interval
    assert gc.get_threshold() == threshold

"""The session's one reader: it copies an audio source into every running lane's backlog.

A non-live source (a file, stdin) is read only as fast as the slowest lane sends (backpressure) and not at
all while paused; live audio read while paused is discarded (a pause stops the timeline; it is not counted
as dropped). `SourceReader` is owned by `session.InterpreterSession`, which says when to read, what, and
when the source is replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.audio.source import AudioInputError, AudioSource
from tongchuan_tui.audio.threaded import ThreadedSource
from tongchuan_tui.pipeline.clock import Clock, wait_until
from tongchuan_tui.pipeline.events import Event, WarningRaised
from tongchuan_tui.pipeline.lane import TargetLane

NON_LIVE_READ_AHEAD_MS = 2_000
"""How far a file or stdin is read ahead of what is sent: enough to coalesce catch-up packets of 500 ms,
small enough that the backlog shown is real lag rather than a full buffer of readily available audio."""


def backlog_bound(max_backlog_ms: int, source: AudioSource) -> int:
    """Bytes a backlog may hold: max_backlog_ms for live input, a short read-ahead otherwise."""
    bound_ms = max_backlog_ms
    if not source.live:
        bound_ms = min(bound_ms, NON_LIVE_READ_AHEAD_MS)
    return bound_ms * BYTES_PER_MS


class SourceReader:
    """Reads one source at a time into the lanes' backlogs (see the module docstring).

    `stopping` says whether the session was asked to stop; `levels` meters live audio as it is read;
    `emit` reports what an input has to say while running.
    """

    def __init__(
        self,
        *,
        lanes: Sequence[TargetLane],
        clock: Clock,
        max_backlog_ms: int,
        stopping: Callable[[], bool],
        levels: Callable[[bytes], None],
        emit: Callable[[Event], None],
    ) -> None:
        self._lanes = lanes
        self._clock = clock
        self._max_backlog_ms = max_backlog_ms
        self._stopping = stopping
        self._levels = levels
        self._emit = emit
        self._reading = asyncio.Event()
        self._reading.set()
        self.task: asyncio.Task[None] | None = None
        """The reading of the current source (None before the first)."""
        self._generation = 0
        self.error: str | None = None
        """Why the input failed, if it did."""

    def hold(self) -> None:
        """Paused: stop reading a non-live source; discard live audio."""
        self._reading.clear()

    def release(self) -> None:
        """Resumed or stopping: read again (a stop then ends the reading)."""
        self._reading.set()

    def adopt(self, source: AudioSource) -> None:
        """Fit the lanes' backlogs to a source: live or not, and their bound."""
        for lane in self._lanes:
            lane.backlog.live = source.live
            lane.backlog.max_bytes = backlog_bound(self._max_backlog_ms, source)

    def report_warnings(self, source: AudioSource) -> None:
        """What an input has to say while running (a URL reconnecting) reaches every sink."""
        if isinstance(source, ThreadedSource):
            source.on_warning = lambda message: self._emit(WarningRaised(message=message, code="input"))

    def start(self, source: AudioSource) -> None:
        """Read a started source until it ends (then the lanes' schedulers hear the input ended)."""
        self.task = asyncio.ensure_future(self._read(source, self._generation))

    async def abandon(self) -> None:
        """Stop reading the current source without ending the input: another one follows."""
        self._generation += 1
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _read(self, source: AudioSource, generation: int) -> None:
        """Source → every running lane's backlog, with backpressure for non-live sources (the slowest lane
        sets the pace) and discarding while paused."""
        try:
            async for data in source.frames():
                if self._stopping():
                    break
                if not self._reading.is_set():
                    if source.live:
                        continue
                    await wait_until(self._clock, self._reading, None)
                    if self._stopping():
                        break
                if not source.live:
                    for lane in self._lanes:
                        while lane.running and not lane.backlog.has_space():
                            await wait_until(self._clock, lane.backlog.space, None)
                if source.live:
                    self._levels(data)
                for lane in self._lanes:
                    if lane.running:
                        lane.backlog.append(data)
                        lane.scheduler.audio_arrived()
        except AudioInputError as error:
            self.error = str(error)
        finally:
            if generation == self._generation:
                for lane in self._lanes:
                    lane.scheduler.input_ended = True
                    lane.scheduler.wake.set()

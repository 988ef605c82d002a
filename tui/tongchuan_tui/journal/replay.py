"""Plays a journal back as a session (`tongchuan-tui replay`): the same events, at the recorded pace, offline.

`ReplaySession` implements `services.SessionLike`, so the UI shows a replay as it shows a live session.
Events are re-emitted at their recorded wall-clock times divided by `speed` (None: as fast as possible);
pause and resume pause the playback (and emit Paused/Resumed so the UI shows it), stop ends it, and
SessionEnded always comes last — the recorded one, or one saying the recorded session did not end cleanly.
"""

from __future__ import annotations

import asyncio
import logging

from tongchuan_tui import exitcodes
from tongchuan_tui.config import log_file
from tongchuan_tui.journal.reader import Journal
from tongchuan_tui.pipeline.clock import Clock, SystemClock, wait_until
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    MarkAdded,
    Paused,
    Resumed,
    SentenceRevised,
    SessionEnded,
    Sink,
    WarningRaised,
)

log = logging.getLogger(__name__)


class ReplaySession:
    """A recorded session played back to its sinks (see the module docstring)."""

    def __init__(
        self,
        journal: Journal,
        speed: float | None = 1.0,
        *,
        clock: Clock | None = None,
        sinks: tuple[Sink, ...] | list[Sink] = (),
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"replay speed must be positive, not {speed}")
        self.journal = journal
        self.speed = speed
        self._clock: Clock = clock or SystemClock()
        self._sinks: list[Sink] = list(sinks)
        self._wake = asyncio.Event()
        self._paused = False
        self._paused_at = 0.0
        self._paused_total = 0.0
        self._stop_reason: str | None = None
        self._at_ms = 0
        self._sink_failed = False
        self._ended = False

    @property
    def position_ms(self) -> int:
        """How far the playback is on the session timeline."""
        return self._at_ms

    @property
    def paused(self) -> bool:
        """Whether playback is paused."""
        return self._paused

    def add_sink(self, sink: Sink) -> None:
        """Receive every event from now on."""
        self._sinks.append(sink)

    async def run(self) -> int:
        """Play the journal to its end (or until stopped); returns exitcodes.OK."""
        self._emit(self.journal.session_started())
        base = self._clock.monotonic()
        recorded_end: SessionEnded | None = None
        for item in self.journal.events:
            if isinstance(item.event, SessionEnded):
                recorded_end = item.event
                continue
            if self.speed is not None:
                await self._wait_for(base, item.t / self.speed)
            if self._stop_reason is not None:
                break
            self._emit(item.event)
        self._emit(self._ending(recorded_end))
        return exitcodes.OK

    def stop(self, reason: str = "stopped") -> None:
        """End the playback now; SessionEnded follows."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._wake.set()

    def pause(self) -> None:
        """Pause the playback."""
        if self._paused or self._ended:
            return
        self._paused = True
        self._paused_at = self._clock.monotonic()
        self._emit(Paused(at_ms=self._at_ms))
        self._wake.set()

    def resume(self) -> None:
        """Resume the playback where it was paused."""
        if not self._paused or self._ended:
            return
        self._paused = False
        self._paused_total += self._clock.monotonic() - self._paused_at
        self._emit(Resumed(at_ms=self._at_ms))
        self._wake.set()

    def mark(self, label: str = "") -> None:
        """Show a mark at the current playback position (a replay writes no journal)."""
        if not self._ended:
            self._emit(MarkAdded(at_ms=self._at_ms, label=label))

    async def _wait_for(self, base: float, playback_s: float) -> None:
        """Wait until the playback clock (which stands still while paused) reaches `playback_s`."""
        while self._stop_reason is None:
            self._wake.clear()
            if self._paused:
                await self._wake.wait()
                continue
            deadline = base + self._paused_total + playback_s
            if self._clock.monotonic() >= deadline:
                return
            await wait_until(self._clock, self._wake, deadline)

    def _ending(self, recorded: SessionEnded | None) -> SessionEnded:
        if self._stop_reason is not None:
            return SessionEnded(
                reason=self._stop_reason, at_ms=self._at_ms, exit_code=exitcodes.OK, message="replay stopped"
            )
        if recorded is not None:
            return recorded
        return SessionEnded(
            reason="interrupted",
            at_ms=self._at_ms,
            exit_code=exitcodes.OK,
            message="the journal ends without a closing line: the recorded session was killed or crashed",
        )

    def _emit(self, event: Event) -> None:
        self._advance(event)
        if isinstance(event, SessionEnded):
            self._ended = True
        for sink in list(self._sinks):
            try:
                sink(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replay sink failed on %s", type(event).__name__)
                if not self._sink_failed:
                    self._sink_failed = True
                    self._emit(
                        WarningRaised(
                            f"a display of the replay failed; see the log file {log_file()}", "sink-failed"
                        )
                    )

    def _advance(self, event: Event) -> None:
        at = getattr(event, "at_ms", None)
        if isinstance(event, ChunkSent):
            at = event.audio_start_ms + event.duration_ms
        elif isinstance(event, SentenceRevised):
            at = event.sentence.end_ms
        if isinstance(at, int) and at > self._at_ms:
            self._at_ms = at

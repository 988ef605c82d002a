"""The interpreter session: an audio source, the scheduler and the transcript, wired to any number of sinks.

`run()` starts the source, reads it into the backlog (live audio is discarded while paused and does not
count as dropped: a pause stops the timeline; files and stdin are simply not read while paused), lets the
scheduler send it, collects the last results and emits `SessionEnded` last. Commands (`stop`, `pause`,
`resume`, `mark`, `switch_source`) may come at any time from the loop's thread. A second `stop()` stops
waiting for late results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from tongchuan_tui import exitcodes
from tongchuan_tui.api.service import TsiService
from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.audio.source import AudioInputError, AudioSource
from tongchuan_tui.pipeline.backlog import Backlog, Piece
from tongchuan_tui.pipeline.clock import Clock, SystemClock, wait_until
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    Event,
    HealthChanged,
    InputChanged,
    MarkAdded,
    Paused,
    Resumed,
    Sentence,
    SentenceRevised,
    SentenceVoiced,
    SessionEnded,
    SessionStarted,
    Sink,
    StatsSnapshot,
    StatsUpdated,
    WarningRaised,
)
from tongchuan_tui.pipeline.health import CHECK_INTERVAL_S, HealthTracker
from tongchuan_tui.pipeline.meter import LevelMeter
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.results import ResultCollector
from tongchuan_tui.pipeline.scheduler import Outcome, Scheduler
from tongchuan_tui.pipeline.stats import StatsCollector
from tongchuan_tui.pipeline.stitch import Stitcher
from tongchuan_tui.pipeline.transcript import Transcript
from tongchuan_tui.pipeline.voicing import VoicedTranscript

__all__ = ["InterpreterSession", "SessionOptions"]

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 1.0
NON_LIVE_READ_AHEAD_MS = 2_000
"""How far a file or stdin is read ahead of what is sent: enough to coalesce catch-up packets of 500 ms,
small enough that the backlog shown is real lag rather than a full buffer of readily available audio."""


class InterpreterSession:
    """One live interpretation, from an audio source to sinks; implements `services.SessionLike`.

    `rate_limits` is the account's budget, shared with whatever else uses it (runtime.py passes the one
    shared by this user's processes); without one, the session has a private budget on its clock.
    """

    def __init__(
        self,
        options: SessionOptions,
        service: TsiService,
        source: AudioSource,
        *,
        clock: Clock | None = None,
        sinks: Sequence[Sink] = (),
        audio_tap: Callable[[bytes], None] | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.options = options
        self._clock: Clock = clock or SystemClock()
        self._limits = rate_limits or RateLimits(self._clock)
        self._source = source
        self._sinks: list[Sink] = list(sinks)
        self._broken_sinks: set[int] = set()
        self._audio_tap = audio_tap
        self._stats = StatsCollector(self._clock)
        self._health = HealthTracker(self._clock)
        self._stitcher = Stitcher(self._dispatch)
        self._voicing = VoicedTranscript(self._voiced) if options.tts is not None else None
        self._voiced_count = 0
        self.transcript: Transcript = self._voicing if self._voicing is not None else Transcript()
        self._meter = LevelMeter()
        self._started_at = self._clock.monotonic()
        self._backlog = Backlog(self._backlog_bound(source), live=source.live, on_drop=self._on_drop)
        self._collector = ResultCollector(
            service=service,
            clock=self._clock,
            limits=self._limits,
            transcript=self.transcript,
            emit=self._emit,
            interval_s=options.display_interval_ms / 1000,
            poll_current=options.mode == "split",
        )
        self._scheduler = Scheduler(
            options=options,
            service=service,
            backlog=self._backlog,
            clock=self._clock,
            limits=self._limits,
            transcript=self.transcript,
            collector=self._collector,
            emit=self._emit,
            on_packet=self._on_packet,
            started_at=self._started_at,
            stitcher=self._stitcher,
        )
        self._tapped = 0
        self._reading = asyncio.Event()
        self._reading.set()
        self._reader: asyncio.Task[None] | None = None
        self._reader_generation = 0
        self._input_error: str | None = None
        self._stop_requested = False
        self._paused_at = 0
        self._ran = False
        self._finished = False

    # ----- SessionLike -----

    def _backlog_bound(self, source: AudioSource) -> int:
        """Bytes the backlog may hold: max_backlog_ms for live input, a short read-ahead otherwise."""
        bound_ms = self.options.max_backlog_ms
        if not source.live:
            bound_ms = min(bound_ms, NON_LIVE_READ_AHEAD_MS)
        return bound_ms * BYTES_PER_MS

    def add_sink(self, sink: Sink) -> None:
        """Receive every event from now on."""
        self._sinks.append(sink)

    def stop(self, reason: str = "stopped") -> None:
        """End gracefully (reason: stopped, interrupted, terminated); called again, stop awaiting results."""
        if self._stop_requested:
            self._collector.hurry()
            return
        self._stop_requested = True
        self._publish_health(self._health.stopping())
        self._scheduler.request_stop(reason)
        self._reading.set()

    def pause(self) -> None:
        """Send what is due with IsEnd and stop the timeline until `resume`."""
        if self._scheduler.paused or self._stop_requested:
            return
        self._reading.clear()
        self._paused_at = self._scheduler.request_pause()
        self._emit(Paused(at_ms=self._paused_at))

    def resume(self) -> None:
        """Go on, on a new service session; the timeline continues where it stopped."""
        if not self._scheduler.paused:
            return
        self._scheduler.request_resume()
        self._reading.set()
        self._emit(Resumed(at_ms=self._paused_at))

    def mark(self, label: str = "") -> None:
        """Mark the current moment (the live edge, or for a file what is being sent now)."""
        self._emit(MarkAdded(at_ms=self.position_ms(), label=label))

    async def switch_source(self, source: AudioSource) -> None:
        """Replace the input while running; raises AudioInputError (keeping the old one) if it fails.

        Before `run()` it only replaces the source (run starts it); after the session ended it does nothing.
        """
        if not self._ran:
            self._source = source
            self._backlog.live = source.live
            self._backlog.max_bytes = self._backlog_bound(source)
            return
        if self._finished:
            return
        await source.start()
        old, self._source = self._source, source
        self._reader_generation += 1
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        with contextlib.suppress(Exception):
            await old.stop()
        self._backlog.live = source.live
        self._backlog.max_bytes = self._backlog_bound(source)
        self._scheduler.input_ended = False
        self._emit(InputChanged(at_ms=self._backlog.tail // BYTES_PER_MS, input=source.description))
        self._reader = asyncio.ensure_future(self._read(source, self._reader_generation))

    # ----- state for front ends -----

    @property
    def paused(self) -> bool:
        """Whether interpretation is paused."""
        return self._scheduler.paused

    def position_ms(self) -> int:
        """The current timeline position: the newest audio (live), or the audio being sent (file, stdin)."""
        if self._backlog.live:
            return self._backlog.tail // BYTES_PER_MS
        return self._scheduler.sent_end // BYTES_PER_MS

    # ----- running -----

    async def run(self) -> int:
        """Run to the end; returns the exit code. Emits SessionStarted first and SessionEnded last."""
        if self._ran:
            raise RuntimeError("a session runs only once")
        self._ran = True
        opts = self.options
        self._emit(
            SessionStarted(
                started_at_utc=self._clock.time(),
                input=opts.input_description or self._source.description,
                source=opts.source,
                target=opts.target,
                mode=opts.mode,
                chunk_ms=opts.chunk_ms,
                endpoint_host=opts.endpoint_host,
                emulated=opts.emulated,
                settings=dict(opts.settings),
            )
        )
        try:
            await self._source.start()
        except AudioInputError as error:
            return self._end(Outcome("failed", exitcodes.BAD_INPUT, str(error)))
        # Some inputs only know once open whether they are live (a URL of a finished recording is not).
        self._backlog.live = self._source.live
        self._backlog.max_bytes = self._backlog_bound(self._source)
        self._reader = asyncio.ensure_future(self._read(self._source, self._reader_generation))
        helpers = [asyncio.ensure_future(self._collector.run()), asyncio.ensure_future(self._tick())]
        try:
            outcome = await self._scheduler.run()
            if self._input_error is not None and outcome.reason == "input-ended":
                outcome = Outcome("failed", exitcodes.BAD_INPUT, self._input_error)
            await self._collector.wait_done()
        except Exception as error:
            log.exception("session failed")
            outcome = Outcome("failed", exitcodes.UNEXPECTED, f"unexpected error: {error}")
        finally:
            tasks = [*helpers, *([self._reader] if self._reader is not None else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._source.stop()
        return self._end(outcome)

    def _end(self, outcome: Outcome) -> int:
        self._finished = True
        for sentence in self.transcript.close_all():
            self._emit(SentenceRevised(sentence))
        self._stitcher.finish()
        self._emit(StatsUpdated(self._snapshot()))
        self._emit(
            SessionEnded(
                reason=outcome.reason,
                at_ms=self._scheduler.sent_end // BYTES_PER_MS,
                exit_code=outcome.exit_code,
                message=outcome.message,
            )
        )
        return outcome.exit_code

    async def _read(self, source: AudioSource, generation: int) -> None:
        """Source → backlog, with backpressure for non-live sources and discarding while paused."""
        try:
            async for data in source.frames():
                if self._stop_requested:
                    break
                if not self._reading.is_set():
                    if source.live:
                        continue
                    await wait_until(self._clock, self._reading, None)
                    if self._stop_requested:
                        break
                if not source.live:
                    while not self._backlog.has_space():
                        await wait_until(self._clock, self._backlog.space, None)
                self._backlog.append(data)
                if source.live:
                    self._emit_levels(data)
                self._scheduler.wake.set()
        except AudioInputError as error:
            self._input_error = str(error)
        finally:
            if generation == self._reader_generation:
                self._scheduler.input_ended = True
                self._scheduler.wake.set()

    async def _tick(self) -> None:
        """Stats every STATS_INTERVAL_S; the health state re-derived more often (a stall has no event)."""
        next_stats = self._clock.monotonic() + STATS_INTERVAL_S
        while True:
            await self._clock.sleep(min(CHECK_INTERVAL_S, max(0.0, next_stats - self._clock.monotonic())))
            if self._clock.monotonic() >= next_stats:
                next_stats += STATS_INTERVAL_S
                self._emit(StatsUpdated(self._snapshot()))
            self._publish_health(self._health.check())

    def _speaker_ms(self) -> int:
        """Where the speaker is on the timeline now: the newest audio (live), or the 1:1 listener (file)."""
        if self._backlog.live:
            return self.position_ms()
        return self.position_ms() + self._scheduler.behind_live_ms()

    def _snapshot(self) -> StatsSnapshot:
        return self._stats.snapshot(
            in_flight=self._scheduler.in_flight + self._collector.in_flight,
            backlog_ms=len(self._backlog) // BYTES_PER_MS,
            behind_live_ms=self._scheduler.behind_live_ms(),
            rate_headroom=self._limits.headroom(),
            backlog_limit_ms=self.options.max_backlog_ms if self._backlog.live else 0,
        )

    def _on_drop(self, at: int, size: int) -> None:
        self._emit(
            AudioDropped(at_ms=at // BYTES_PER_MS, duration_ms=size // BYTES_PER_MS, reason="backlog-full")
        )

    def _on_packet(self, pieces: list[Piece], data: bytes) -> None:
        """A packet goes out: tap and meter the audio not seen before (a rollover resends some)."""
        new = bytearray()
        for piece in pieces:
            if piece.end > self._tapped:
                new += piece.data[max(0, self._tapped - piece.start) :]
                self._tapped = piece.end
        if not self._backlog.live:
            self._emit_levels(bytes(new))
        if self._audio_tap is not None:
            real = sum(len(p.data) for p in pieces)
            try:
                self._audio_tap(bytes(new) + data[real:])
            except Exception:
                log.exception("audio tap failed")

    def _emit_levels(self, pcm: bytes) -> None:
        for level in self._meter.feed(pcm):
            self._emit(level)

    def _emit(self, event: Event) -> None:
        """Every event goes through the rollover stitcher first (it may rewrite, hold or drop sentences)."""
        self._stitcher.feed(event)
        if self._voicing is not None and isinstance(event, SentenceRevised):
            # After the final revision went out (stitched or not): its speech, if it was waiting for it.
            self._voicing.revised(event.sentence)

    def _dispatch(self, event: Event) -> None:
        """Hand an event to the stats, the health tracker and every sink, in order.

        A change of health follows the event that caused it, but for the end: `SessionEnded` stays last.
        """
        self._stats.observe(event)
        if isinstance(event, SentenceRevised):
            self._stats.sentence_shown(event.sentence, self._speaker_ms())
        if isinstance(event, SessionEnded):
            self._publish_health(self._health.observe(event))
            self._publish(event)
            return
        self._publish(event)
        self._publish_health(self._health.observe(event))

    def _publish_health(self, changed: HealthChanged | None) -> None:
        if changed is not None:
            self._publish(changed)

    def _publish(self, event: Event) -> None:
        """Hand an event to every sink, in order; a failing sink is reported once."""
        failed: list[str] = []
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception as error:
                if id(sink) not in self._broken_sinks:
                    self._broken_sinks.add(id(sink))
                    log.exception("sink %r failed", sink)
                    failed.append(f"an output failed and may miss events: {type(error).__name__}: {error}")
        for message in failed:
            self._emit(WarningRaised(message=message, code="sink-failed"))

    def _voiced(self, sentence: Sentence, audio: bytes) -> None:
        """A final sentence's speech arrived (once per sentence): placed at the current position."""
        tts = self.options.tts
        assert tts is not None
        index, self._voiced_count = self._voiced_count, self._voiced_count + 1
        self._emit(
            SentenceVoiced(
                key=sentence.key,
                index=index,
                at_ms=self.position_ms(),
                start_ms=sentence.start_ms,
                end_ms=sentence.end_ms,
                text=sentence.target_text,
                codec=tts.codec,
                sample_rate=tts.sample_rate,
                size_bytes=len(audio),
                audio=audio,
            )
        )

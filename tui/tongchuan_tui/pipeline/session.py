"""The interpreter session: an audio source, one lane per target language (scheduler, transcript: lane.py),
wired to any number of sinks.

`run()` starts the source, reads it into every lane's backlog (the very same bytes for each target; live
audio is discarded while paused and does not count as dropped: a pause stops the timeline; files and stdin
are simply not read while paused), lets each lane's scheduler send it, collects the last results and emits
`SessionEnded` last. One target failing for good ends only its lane (`TargetEnded`). Commands (`stop`,
`pause`, `resume`, `mark`, `switch_source`) may come at any time from the loop's thread. A second `stop()`
stops waiting for late results.

The session owns two collaborators: `reader.SourceReader` copies the source into the lanes' backlogs, and
`reporting.SessionReporter` hands every event to the sinks, with the stats and health state derived from them.
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
from tongchuan_tui.pipeline.backlog import Piece
from tongchuan_tui.pipeline.clock import Clock, SystemClock
from tongchuan_tui.pipeline.events import (
    Event,
    InputChanged,
    MarkAdded,
    Paused,
    Resumed,
    Sentence,
    SentenceVoiced,
    SessionEnded,
    SessionStarted,
    Sink,
    TargetEnded,
)
from tongchuan_tui.pipeline.lane import TargetLane, running_lanes
from tongchuan_tui.pipeline.meter import LevelMeter
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.reader import SourceReader, backlog_bound
from tongchuan_tui.pipeline.reporting import SessionReporter
from tongchuan_tui.pipeline.scheduler import Outcome
from tongchuan_tui.pipeline.transcript import Transcript
from tongchuan_tui.pipeline.voicing import VoicedTranscript

__all__ = ["InterpreterSession", "SessionOptions"]

log = logging.getLogger(__name__)


class InterpreterSession:
    """One live interpretation, from an audio source to sinks; implements `services.SessionLike`.

    `rate_limits` is the account's budget, shared with whatever else uses it (runtime.py passes the one
    shared by this user's processes); without one, the session has a private budget on its clock. With
    several targets (`options.targets`), every target's service sessions draw from it.
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
        self._audio_tap = audio_tap
        # TTS is asked of the first target only: one voice track, in the language shown large by default.
        self._voicing = VoicedTranscript(self._voiced) if options.tts is not None else None
        self._voiced_count = 0
        self._meter = LevelMeter()
        self._started_at = self._clock.monotonic()
        targets = options.all_targets
        self.multi = len(targets) > 1
        """Whether it interprets into several languages (its events are then tagged with their target)."""
        self.lanes = [
            TargetLane(
                target=target,
                first=i == 0,
                tag=self.multi,
                options=options,
                service=service,
                clock=self._clock,
                limits=self._limits,
                backlog_bytes=backlog_bound(options.max_backlog_ms, source),
                live=source.live,
                out=self._emit,
                on_packet=self._on_packet,
                started_at=self._started_at,
                voicing=self._voicing if i == 0 else None,
            )
            for i, target in enumerate(targets)
        ]
        self._reporter = SessionReporter(
            clock=self._clock,
            limits=self._limits,
            lanes=self.lanes,
            position_ms=self.position_ms,
            max_backlog_ms=options.max_backlog_ms,
            sinks=sinks,
        )
        self._reader = SourceReader(
            lanes=self.lanes,
            clock=self._clock,
            max_backlog_ms=options.max_backlog_ms,
            stopping=lambda: self._stop_requested,
            levels=self._emit_levels,
            emit=self._emit,
        )
        self._tapped = 0
        self._stop_requested = False
        self._paused_at = 0
        self._ran = False
        self._finished = False

    @property
    def transcript(self) -> Transcript:
        """The first target's transcript (the one whose source text is shown)."""
        return self.lanes[0].transcript

    def _running(self) -> list[TargetLane]:
        return running_lanes(self.lanes)

    # ----- SessionLike -----

    def add_sink(self, sink: Sink) -> None:
        """Receive every event from now on."""
        self._reporter.add_sink(sink)

    def stop(self, reason: str = "stopped") -> None:
        """End gracefully (reason: stopped, interrupted, terminated); called again, stop awaiting results."""
        if self._stop_requested:
            for lane in self.lanes:
                lane.collector.hurry()
            return
        self._stop_requested = True
        self._reporter.stopping()
        for lane in self.lanes:
            lane.scheduler.request_stop(reason)
        self._reader.release()

    def pause(self) -> None:
        """Send what is due with IsEnd and stop the timeline until `resume`."""
        if self.paused or self._stop_requested:
            return
        self._reader.hold()
        positions = [lane.scheduler.request_pause() for lane in self._running()]
        self._paused_at = positions[0]
        self._emit(Paused(at_ms=self._paused_at))

    def resume(self) -> None:
        """Go on, on new service sessions; the timeline continues where it stopped."""
        if not self.paused:
            return
        for lane in self._running():
            lane.scheduler.request_resume()
        self._reader.release()
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
            self._reader.adopt(source)
            return
        if self._finished:
            return
        self._reader.report_warnings(source)
        await source.start()
        old, self._source = self._source, source
        await self._reader.abandon()
        with contextlib.suppress(Exception):
            await old.stop()
        self._reader.adopt(source)
        for lane in self.lanes:
            lane.scheduler.input_ended = False
        self._emit(InputChanged(at_ms=self.lanes[0].backlog.tail // BYTES_PER_MS, input=source.description))
        self._reader.start(source)

    # ----- state for front ends -----

    @property
    def paused(self) -> bool:
        """Whether interpretation is paused."""
        return self._running()[0].scheduler.paused

    def position_ms(self) -> int:
        """The current timeline position: the newest audio (live), or the audio being sent (file, stdin)."""
        lane = self._running()[0]
        if lane.backlog.live:
            return lane.backlog.tail // BYTES_PER_MS
        return lane.scheduler.sent_end // BYTES_PER_MS

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
                targets=opts.all_targets if self.multi else (),
            )
        )
        self._reader.report_warnings(self._source)
        try:
            await self._source.start()
        except AudioInputError as error:
            return self._end(Outcome("failed", exitcodes.BAD_INPUT, str(error)))
        # Some inputs only know once open whether they are live (a URL of a finished recording is not).
        self._reader.adopt(self._source)
        self._reader.start(self._source)
        ticker = asyncio.ensure_future(self._reporter.tick())
        try:
            if self.multi:
                # Every target in the account's plan before the first packet: all planned for all of them.
                await self._limits.join([lane.scheduler.stream for lane in self.lanes])
            outcomes = await asyncio.gather(*(self._run_lane(lane) for lane in self.lanes))
            outcome = self._combined(outcomes)
        except Exception as error:
            log.exception("session failed")
            outcome = Outcome("failed", exitcodes.UNEXPECTED, f"unexpected error: {error}")
        finally:
            reading = self._reader.task
            tasks = [ticker, *([reading] if reading is not None else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._source.stop()
        return self._end(outcome)

    async def _run_lane(self, lane: TargetLane) -> Outcome:
        outcome = await lane.run()
        input_error = self._reader.error
        if input_error is not None and outcome.reason == "input-ended":
            outcome = lane.outcome = Outcome("failed", exitcodes.BAD_INPUT, input_error)
        if self.multi and outcome.reason == "failed" and input_error is None:
            # Its own failure (not the input's): the others go on without it; the reader no longer feeds it
            # nor waits for it.
            lane.backlog.space.set()
            self._emit(TargetEnded(lane.target, outcome.reason, outcome.exit_code, outcome.message))
        return outcome

    def _combined(self, outcomes: list[Outcome]) -> Outcome:
        """The session's outcome: a failed target's exit code (named in the message) if any target failed."""
        failed = [(lane, o) for lane, o in zip(self.lanes, outcomes, strict=True) if o.reason == "failed"]
        if not self.multi or not failed or len(failed) == len(outcomes):
            return outcomes[0] if not failed else failed[0][1]
        lane, first = failed[0]
        went_on = next(o for o in outcomes if o.reason != "failed")
        return Outcome(went_on.reason, first.exit_code, f"target {lane.target} failed: {first.message}")

    def _end(self, outcome: Outcome) -> int:
        self._finished = True
        for lane in self.lanes:
            lane.finish()
        self._reporter.emit_stats()
        self._emit(
            SessionEnded(
                reason=outcome.reason,
                at_ms=max(lane.scheduler.sent_end for lane in self.lanes) // BYTES_PER_MS,
                exit_code=outcome.exit_code,
                message=outcome.message,
            )
        )
        return outcome.exit_code

    def _on_packet(self, pieces: list[Piece], data: bytes) -> None:
        """A packet goes out: tap and meter the audio no target sent before (a rollover resends some, and
        every target sends the same audio)."""
        new = bytearray()
        for piece in pieces:
            if piece.end > self._tapped:
                new += piece.data[max(0, self._tapped - piece.start) :]
                self._tapped = piece.end
        if not new and pieces:
            return
        if not self.lanes[0].backlog.live:
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
        """Hand an event to the stats, the health tracker and every sink (see `reporting`)."""
        self._reporter.emit(event)

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

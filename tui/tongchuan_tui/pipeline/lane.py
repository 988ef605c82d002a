"""One target language's share of an interpreter session: its backlog, scheduler, Display polling, transcript,
rollover stitcher and stats.

A session interpreting into several languages has one lane per target, all fed the very same audio by the
session's one reader (each lane's backlog holds the same bytes at the same timeline positions). Each lane has
its own service sessions (one SessionUuid per target: the service translates one pair per session), its own
retries and rollovers, and ends on its own: one target refused does not stop the others. All lanes draw from
the one account budget (`RateLimits`), which plans every lane's packet length together.

In a multi-target session every event a lane emits is tagged with its target (`target` field); a
single-target session leaves them untagged, exactly as before multi-target existed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence

from tongchuan_tui.api.service import TsiService
from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.pipeline.assembly import SentenceDesk
from tongchuan_tui.pipeline.backlog import Backlog, Piece
from tongchuan_tui.pipeline.clock import Clock
from tongchuan_tui.pipeline.events import (
    AudioDropped,
    ChunkSent,
    Event,
    RequestFailed,
    RequestRetried,
    SentenceRevised,
    ServiceSessionClosed,
    ServiceSessionOpened,
    StatsSnapshot,
)
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.results import ResultCollector
from tongchuan_tui.pipeline.scheduler import Outcome, Scheduler
from tongchuan_tui.pipeline.stats import StatsCollector
from tongchuan_tui.pipeline.stitch import Stitcher
from tongchuan_tui.pipeline.transcript import Transcript
from tongchuan_tui.pipeline.voicing import VoicedTranscript

TAGGED = (ServiceSessionOpened, ServiceSessionClosed, ChunkSent, RequestRetried, RequestFailed, AudioDropped)
"""Events a lane tags with its target (sentences are tagged by the transcript)."""


class TargetLane:
    """The service sessions of one target language, fed from its own copy of the session's audio."""

    def __init__(
        self,
        *,
        target: str,
        first: bool,
        tag: bool,
        options: SessionOptions,
        service: TsiService,
        clock: Clock,
        limits: RateLimits,
        backlog_bytes: int,
        live: bool,
        out: Callable[[Event], None],
        on_packet: Callable[[list[Piece], bytes], None],
        started_at: float,
        voicing: VoicedTranscript | None = None,
    ) -> None:
        self.target = target
        self.tag = target if tag else ""
        """What its events are tagged with ("" in a single-target session)."""
        self.options = dataclasses.replace(options, target=target, targets=())
        self._out = out
        self._limits = limits
        # The first target's keys are those of a single-target session; the others' are prefixed, so that a
        # sentence key stays unique in the whole session.
        self.transcript: Transcript
        if voicing is not None:
            voicing.target = self.tag
            self.transcript = voicing
        else:
            self.transcript = Transcript(self.tag, key_prefix="" if first else f"{target}/")
        self._voicing = voicing
        """The first target's transcript when TTS was asked for: it hands on each final sentence's speech."""
        self.stats = StatsCollector(clock)
        self.stitcher = Stitcher(self._forward)
        self.desk = SentenceDesk(self.transcript, self.emit)
        """The transcript's one writer (uploads' answers, polls, closes)."""
        self.backlog = Backlog(backlog_bytes, live=live, on_drop=self._on_drop)
        self.collector = ResultCollector(
            service=service,
            clock=clock,
            limits=limits,
            desk=self.desk,
            emit=self.emit,
            interval_s=options.display_interval_ms / 1000,
            poll_current=options.mode == "split",
        )
        self.scheduler = Scheduler(
            options=self.options,
            service=service,
            backlog=self.backlog,
            clock=clock,
            limits=limits,
            desk=self.desk,
            collector=self.collector,
            emit=self.emit,
            on_packet=on_packet,
            started_at=started_at,
            stitcher=self.stitcher,
        )
        self.outcome: Outcome | None = None
        """How it ended (None while it runs)."""

    @property
    def running(self) -> bool:
        """Whether it still takes audio."""
        return self.outcome is None

    def emit(self, event: Event) -> None:
        """Everything the lane says goes through its rollover stitcher first."""
        self.stitcher.feed(event)
        if self._voicing is not None and isinstance(event, SentenceRevised):
            # After the final revision went out (stitched or not): its speech, if it was waiting for it.
            self._voicing.revised(event.sentence)

    def _forward(self, event: Event) -> None:
        if self.tag and isinstance(event, TAGGED) and not event.target:
            event = dataclasses.replace(event, target=self.tag)
        self.stats.observe(event)
        self._out(event)

    def _on_drop(self, at: int, size: int) -> None:
        self._forward(
            AudioDropped(at_ms=at // BYTES_PER_MS, duration_ms=size // BYTES_PER_MS, reason="backlog-full")
        )

    async def run(self) -> Outcome:
        """Send its audio until the input ends, a stop, or a final failure; then collect the last results."""
        polling = asyncio.ensure_future(self.collector.run())
        try:
            outcome = await self.scheduler.run()
            await self.collector.wait_done()
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
        self.outcome = outcome
        return outcome

    def finish(self) -> None:
        """The session ends: every sentence still open is final as last seen."""
        self.desk.close_all()
        self.stitcher.finish()

    def snapshot(self) -> StatsSnapshot:
        """Its own health: requests, round trips, backlog and lag."""
        return self.stats.snapshot(
            in_flight=self.in_flight,
            backlog_ms=len(self.backlog) // BYTES_PER_MS,
            behind_live_ms=self.scheduler.behind_live_ms(),
            rate_headroom=self._limits.headroom(),
        )

    @property
    def in_flight(self) -> int:
        """Requests awaiting an answer (uploads and polls)."""
        return self.scheduler.in_flight + self.collector.in_flight


def running_lanes(lanes: Sequence[TargetLane]) -> list[TargetLane]:
    """The lanes that still take audio; the first lane if none does (what the session shows is its own)."""
    return [lane for lane in lanes if lane.running] or list(lanes[:1])

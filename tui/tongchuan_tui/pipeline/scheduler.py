"""The packet scheduler: backlog → paced packets → the service, one request at a time per service session.

Rules it keeps (each tested on a fake clock in tests/unit/test_scheduler.py):
- 1:1 pacing, anchored to what the service accepted (pacing.py): within a service session a packet covering
  [a, b) of its audio goes out no earlier than `origin + b`, where the origin is when the session opened
  until Seq 0 is accepted, then that packet's send time less its length, so however refusals fall the audio
  accepted is never more than one packet ahead of the service's clock.
- Packets are `chunk_ms` long (longer, up to 500 ms, while the account's budget is shared by more streams
  than fit at chunk_ms: ratelimit.py plans every stream's length so all stay under the limit); when answers
  were slow and audio queued (the budget is 100 ms or more beyond a chunk), the next packet takes what the
  pacing budget allows, up to 500 ms, to catch up. A rate refusal backs off every stream of the budget.
  Never under 200 ms but for a padded last packet (IsEnd).
- Retryable failures retry the same Seq with the same data (backoff 0.25, 0.5, 1, 2, 2… s) while the gap
  since the last delivered packet stays under `GAP_GIVE_UP_S`; past that the service session is abandoned
  and a new one ("rollover") carries on, Seq 0, pacing restarted, re-sent the audio from the start of the
  sentence being spoken (stitch.py: its results replace the cut sentence; one still incomplete is marked
  interrupted, never a clean final).
- A retry refused as a duplicate (`InvalidParameter.DuplicatedSessionIdAndSeq`: the first attempt arrived,
  its answer was lost) counts as delivered; so does an idempotent answer to it.
- FailedOperation (the engine failed the SessionUuid, e.g. after the process was suspended past the gap
  rule) rolls over at once. Other final failures (auth, parameters) end the session with
  the exit code of the error's kind (`exitcodes.for_error`) and the API's code and message; failures across
  `MAX_FAILED_ROLLOVERS` rollovers or `UNREACHABLE_AFTER_S` without a delivered packet, SERVICE_UNREACHABLE.
- No audio for `IDLE_CLOSE_S` (stalled stdin, a URL reconnecting): the service session is closed with an
  IsEnd packet (reason "idle") before the service's 6 s gap rule trips; a new one opens ("reopen") when
  audio returns. Audio that does not exist is never sent.
- Pause/stop drain the audio that is due (live: everything received; file/stdin: what the pacing budget
  allows now, the rest stays queued for resume) and end the service session with IsEnd.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass

from tongchuan_tui import exitcodes
from tongchuan_tui.api.errors import ApiError, TsiError
from tongchuan_tui.api.models import ACTION_RECOGNIZE, ACTION_SYNC, UploadRequest
from tongchuan_tui.api.service import TsiService
from tongchuan_tui.audio.format import BYTES_PER_MS, MAX_PACKET_MS, MIN_PACKET_MS
from tongchuan_tui.pipeline.assembly import SentenceDesk
from tongchuan_tui.pipeline.backlog import Backlog, Piece
from tongchuan_tui.pipeline.clock import Clock, wait_until
from tongchuan_tui.pipeline.delivery import Abandoned, Delivery, Rejected
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    RequestFailed,
    ServiceSessionClosed,
    ServiceSessionOpened,
)
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.pacing import ServiceSession
from tongchuan_tui.pipeline.ratelimit import RateLimits, Stream
from tongchuan_tui.pipeline.results import ResultCollector
from tongchuan_tui.pipeline.stitch import Stitcher

MIN_BYTES = MIN_PACKET_MS * BYTES_PER_MS
MAX_BYTES = MAX_PACKET_MS * BYTES_PER_MS
IDLE_CLOSE_S = 4.0
COALESCE_AFTER_BYTES = 100 * BYTES_PER_MS
"""Packets grow beyond chunk_ms only once the pacing budget is this far ahead of the audio sent."""
MAX_FAILED_ROLLOVERS = 3
"""Failures persisting across this many rollovers (without one packet delivered) end the session."""
UNREACHABLE_AFTER_S = 30.0
"""…or failures persisting this long."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the scheduler ended: SessionEnded's reason, exit code and message."""

    reason: str
    exit_code: int
    message: str = ""


class _Ended(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class Scheduler:
    """Sends the backlog to the service as paced packets, across service sessions, until told to end."""

    def __init__(
        self,
        *,
        options: SessionOptions,
        service: TsiService,
        backlog: Backlog,
        clock: Clock,
        limits: RateLimits,
        desk: SentenceDesk,
        collector: ResultCollector,
        emit: Callable[[Event], None],
        on_packet: Callable[[list[Piece], bytes], None],
        started_at: float,
        stitcher: Stitcher | None = None,
    ) -> None:
        self._stitcher = stitcher or Stitcher(emit)
        self._options = options
        self._service = service
        self.backlog = backlog
        self._clock = clock
        self._limits = limits
        self._desk = desk
        self._transcript = desk.transcript
        """Read only: sentences change through the desk."""
        self._collector = collector
        self._emit = emit
        self._on_packet = on_packet
        self._started_at = started_at
        self._action = ACTION_SYNC if options.mode == "sync" else ACTION_RECOGNIZE
        self._stream = limits.stream(self._action, options.chunk_ms)
        self._delivery = Delivery(
            service=service, clock=clock, limits=limits, stream=self._stream, action=self._action, emit=emit
        )
        self.wake = asyncio.Event()
        self._needs_audio = True
        """Whether the loop waits for more audio (rather than for the pacing budget): see `audio_arrived`."""
        self.current: ServiceSession | None = None
        self.stop_reason: str | None = None
        self.input_ended = False
        self.paused = False
        self._pausing = False
        self._drain_until: int | None = None
        self._next_reason = "start"
        self._index = 0
        self._failed_rollovers = 0
        self.sent_end = 0
        """The timeline position just after the newest audio handed to the service."""

    @property
    def stream(self) -> Stream:
        """Its share of the account's budget (its planned packet length)."""
        return self._stream

    @property
    def in_flight(self) -> int:
        """Uploads awaiting an answer (0 or 1)."""
        return self._delivery.in_flight

    @property
    def _chunk_bytes(self) -> int:
        """The packet length now: the configured one, or longer while the account's budget is shared."""
        return self._stream.chunk_ms * BYTES_PER_MS

    # ----- commands (called from the session, on the loop's thread) -----

    def audio_arrived(self) -> None:
        """The reader queued more audio. It wakes the loop only when the loop waits for audio: a wait for
        the pacing budget ends no sooner for it, and waking for every 20 ms frame cost each target's loop
        fifty wake-ups a second."""
        if self._needs_audio:
            self.wake.set()

    def request_stop(self, reason: str) -> None:
        """End after draining what is due."""
        if self.stop_reason is None:
            self.stop_reason = reason
            if self._drain_until is None:
                self._drain_until = self._due_position()
        self.wake.set()

    def request_pause(self) -> int:
        """Drain what is due, end the service session; returns the timeline position where it stopped."""
        self.paused = True
        if self.current is not None and self._drain_until is None:
            self._pausing = True
            self._drain_until = self._due_position()
        self.wake.set()
        return (self._drain_until if self._drain_until is not None else self._due_position()) // BYTES_PER_MS

    def request_resume(self) -> None:
        """Go on: a new service session opens when audio is there (unless the pause never took effect)."""
        self.paused = False
        if self._pausing and self.stop_reason is None:
            self._pausing = False
            self._drain_until = None
        elif self.current is None:
            self._next_reason = "resume"
        self.wake.set()

    def behind_live_ms(self) -> int:
        """How far the audio sent trails the input (live) or the ideal 1:1 schedule (file, stdin)."""
        if self.backlog.live:
            return max(0, self.backlog.tail - self.sent_end) // BYTES_PER_MS
        session = self.current
        if session is None:
            return 0
        lag = session.allowed_bytes(self._clock.monotonic()) - session.sent_bytes
        return max(0, min(lag, len(self.backlog))) // BYTES_PER_MS

    def _due_position(self) -> int:
        """The timeline position up to which audio counts as "said so far" (see the module doc)."""
        if self.backlog.live:
            return self.backlog.tail
        session = self.current
        budget = 0 if session is None else session.allowed_bytes(self._clock.monotonic()) - session.sent_bytes
        budget = max(0, min(budget, len(self.backlog)))
        return self.backlog.head + budget - budget % BYTES_PER_MS

    # ----- the loop -----

    async def run(self) -> Outcome:
        """Send until the input ends or a stop; returns how it ended (results collected by the caller)."""
        try:
            while True:
                self.wake.clear()
                self._needs_audio = True
                if self.current is None:
                    outcome = await self._idle_step()
                    if outcome is not None:
                        return outcome
                else:
                    await self._session_step(self.current)
        except _Ended as ended:
            return ended.outcome
        finally:
            await self._stream.close()

    async def _idle_step(self) -> Outcome | None:
        """No service session open: finish a drain, end, wait, or open one when there is audio to send."""
        drain = self._drain_until
        if drain is not None and self.backlog.bytes_before(drain) > 0:
            # A drain (pause/stop) was cut short by a rollover: its audio still goes out, then IsEnd.
            self._open(self._next_reason)
            return None
        if self.stop_reason is not None:
            return Outcome(self.stop_reason, _exit_code(self.stop_reason))
        if self.paused:
            self._pausing = False
            self._drain_until = None
            await wait_until(self._clock, self.wake, None)
            return None
        if len(self.backlog) > 0:
            self._open(self._next_reason)
            return None
        if self.input_ended:
            return Outcome("input-ended", exitcodes.OK)
        await wait_until(self._clock, self.wake, None)
        return None

    async def _session_step(self, session: ServiceSession) -> None:
        now = self._clock.monotonic()
        budget = session.allowed_bytes(now) - session.sent_bytes
        drain = self._drain_until
        if drain is None and self.input_ended:
            drain = self.backlog.tail
        if drain is not None:
            remaining = self.backlog.bytes_before(drain)
            if remaining <= MAX_BYTES:
                size = max(MIN_BYTES, remaining + remaining % 2)
                if budget >= size:
                    await self._send(session, remaining, size, is_end=True, reason=self._closing_reason())
                else:
                    self._needs_audio = False  # the drain's end is fixed: only the budget is awaited
                    await wait_until(self._clock, self.wake, session.due_at(session.sent_bytes + size))
                return
            available = remaining
        else:
            available = len(self.backlog)
        available -= available % BYTES_PER_MS
        size = min(MAX_BYTES, available, budget - budget % BYTES_PER_MS)
        if size >= self._chunk_bytes:
            if budget < self._chunk_bytes + COALESCE_AFTER_BYTES:
                # Only a little late (timer jitter): keep to chunk_ms rather than odd-sized packets.
                size = self._chunk_bytes
            await self._send(session, size, size, is_end=False, reason="")
            return
        if available >= self._chunk_bytes:
            self._needs_audio = False  # a packet's worth is there: only its due time is awaited
            await wait_until(self._clock, self.wake, session.due_at(session.sent_bytes + self._chunk_bytes))
            return
        idle_deadline = session.last_ok + IDLE_CLOSE_S
        if now >= idle_deadline:
            # The input stalled: close before the service's 6 s gap rule trips, with what little there is.
            rest = len(self.backlog)
            size = max(MIN_BYTES, rest + rest % 2)
            await wait_until(self._clock, asyncio.Event(), session.due_at(session.sent_bytes + size))
            await self._send(session, rest, size, is_end=True, reason="idle")
            return
        await wait_until(self._clock, self.wake, idle_deadline)

    def _closing_reason(self) -> str:
        if self._pausing:
            return "paused"
        if self.stop_reason is not None:
            return self.stop_reason
        return "input-ended"

    def _open(self, reason: str) -> ServiceSession:
        now = self._clock.monotonic()
        offset_ms = self.backlog.head // BYTES_PER_MS
        lead_ms = 0
        if self.backlog.live:
            # Live audio already queued was being spoken before now: the first frame's audio began one
            # frame earlier than it arrived. Counting from its start (at most one packet back) keeps the
            # 1:1 rule true of the audio itself while sparing every packet a frame's wait.
            lead_ms = min(len(self.backlog), self._chunk_bytes) // BYTES_PER_MS
        opened_at = now - lead_ms / 1000
        session = ServiceSession(
            uuid=str(uuidlib.uuid4()),
            index=self._index,
            opened_at=opened_at,
            utc=int(self._clock.time()),
            timeline=self._desk.open_session(self._index, offset_ms),
            last_ok=now,
        )
        self._index += 1
        self.current = session
        self._emit(ServiceSessionOpened(session.uuid, session.index, offset_ms, reason, lead_ms))
        return session

    def _close(self, session: ServiceSession, reason: str, *, collect: bool) -> None:
        self.current = None
        self._collector.current = None
        self._emit(ServiceSessionClosed(session.uuid, session.index, reason))
        self._collector.track_closed(
            session.uuid, session.index, self._options.end_timeout_s, collect=collect
        )

    async def _send(
        self, session: ServiceSession, real: int, size: int, *, is_end: bool, reason: str
    ) -> None:
        """Deliver one packet of `real` queued bytes padded to `size`; handles retries and rollover."""
        pieces = self.backlog.take(real)
        data = b"".join(p.data for p in pieces)
        data += bytes(size - len(data))
        first_start = self._clock.monotonic()
        self._on_packet(pieces, data)
        if pieces:
            self.sent_end = max(self.sent_end, pieces[-1].end)
        request = UploadRequest(
            session_uuid=session.uuid,
            source=self._options.source,
            target=self._options.target,
            seq=session.seq,
            utc=session.utc,
            is_end=is_end,
            data=data,
            translate_time=self._options.translate_time,
            tts=self._options.tts,
        )
        try:
            result, started, retries = await self._delivery.deliver(session, request)
        except Abandoned as abandoned:
            self.backlog.push_front(pieces)
            self._rollover(session, abandoned.error)
            return
        except Rejected as rejected:
            error = rejected.error
            self._close(session, "failed", collect=False)
            raise _Ended(
                Outcome("failed", exitcodes.for_error(error), f"{error.code}: {error.message}")
            ) from None
        self.backlog.delivered(pieces)
        round_trip_ms = (self._clock.monotonic() - started) * 1000
        service_ms = session.sent_bytes // BYTES_PER_MS
        for piece in pieces:
            session.timeline.add(service_ms, piece.start // BYTES_PER_MS)
            service_ms += len(piece.data) // BYTES_PER_MS
        if session.seq == 0:
            # Only now does the service know this SessionUuid: Display polls for it from here on.
            self._collector.current = (session.uuid, session.index)
        session.accepted(started, len(data))
        self._delivery.failing_since = None
        self._failed_rollovers = 0
        audio_start = pieces[0].start if pieces else self.backlog.head
        self._emit(
            ChunkSent(
                seq=request.seq,
                session_uuid=session.uuid,
                audio_start_ms=audio_start // BYTES_PER_MS,
                duration_ms=len(data) // BYTES_PER_MS,
                size_bytes=len(data),
                sent_at_ms=round((first_start - self._started_at) * 1000),
                round_trip_ms=round(round_trip_ms, 3),
                request_id=result.request_id,
                retries=retries,
                is_end=is_end,
            )
        )
        self._desk.merge(session.index, result.sentences)
        if is_end:
            if self._pausing:
                self._pausing = False
            self._drain_until = None if self.stop_reason is None else self._drain_until
            self._next_reason = "resume" if reason == "paused" else "reopen"
            self._close(session, reason, collect=True)

    def _rollover(self, session: ServiceSession, error: TsiError) -> None:
        """Abandon a service session that could not recover in time; the next one resends its audio."""
        self._failed_rollovers += 1
        failing_for = self._clock.monotonic() - (self._delivery.failing_since or self._clock.monotonic())
        give_up = self._failed_rollovers > MAX_FAILED_ROLLOVERS or failing_for > UNREACHABLE_AFTER_S
        # Its unfinished sentences are held (never finalised with partial text) and the next session is
        # re-sent the audio from the start of the earliest of them, so it can say them whole.
        resend_from = self._stitcher.abandon(
            session.index,
            self._transcript.open_sentences(session.index),
            kept_from_ms=self.backlog.kept_from // BYTES_PER_MS,
            sent_ms=self.backlog.head // BYTES_PER_MS,
        )
        if not give_up:
            self.backlog.rewind(resend_from * BYTES_PER_MS)
        self._close(session, "abandoned", collect=False)
        if give_up:
            self._emit(RequestFailed(self._action, None, error.code, error.message, final=True))
            raise _Ended(Outcome("failed", exitcodes.SERVICE_UNREACHABLE, _giving_up_message(error)))
        self._next_reason = "rollover"


def _giving_up_message(error: TsiError) -> str:
    """Why the session gave up, as the user should read it: a refusal for rate is not unreachability."""
    if isinstance(error, ApiError) and error.code.startswith("RequestLimitExceeded"):
        return (
            f"the service kept refusing requests over the account's rate limit ({error.code}: "
            f"{error.message}); other sessions on this account share the limit: run fewer at once"
        )
    return f"service unreachable: {error.code}: {error.message}"


def _exit_code(reason: str) -> int:
    return {"interrupted": exitcodes.INTERRUPTED, "terminated": exitcodes.TERMINATED}.get(
        reason, exitcodes.OK
    )

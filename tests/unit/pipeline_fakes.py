"""Fakes for the pipeline's tests: a TsiService that knows where each byte it hears lies on the input, an
AudioSource on a FakeClock, and a helper that runs a whole session in virtual time and records it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from tongchuan_tui.api.errors import ApiError, NetworkError, TsiError
from tongchuan_tui.api.models import (
    ACTION_DISPLAY,
    ACTION_RECOGNIZE,
    ACTION_SYNC,
    ApiResult,
    DisplayInfo,
    DisplayRequest,
    UploadRequest,
)
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.pipeline.clock import FakeClock
from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.ratelimit import RateLimits
from tongchuan_tui.pipeline.session import InterpreterSession

BPMS = 32

Script = Callable[[InterpreterSession, FakeClock], Awaitable[None]]
"""Commands a test gives a running session (on its fake clock)."""


def make_pcm(ms: int, seed: int = 1) -> bytes:
    """Noise with no zero byte (so padding is recognisable) and no repeats (so any packet can be located)."""
    rng = random.Random(seed)
    return bytes(rng.randrange(1, 256) for _ in range(ms * BPMS))


@dataclass(frozen=True)
class Cue:
    """A sentence of the input, in timeline ms."""

    k: int
    start_ms: int
    end_ms: int


def cues_for(ms: int, every_ms: int = 1000, length_ms: int = 700, first_ms: int = 100) -> list[Cue]:
    """One sentence every `every_ms`, `length_ms` long."""
    out: list[Cue] = []
    k = 0
    start = first_ms
    while start + length_ms <= ms:
        out.append(Cue(k, start, start + length_ms))
        k += 1
        start += every_ms
    return out


@dataclass
class Call:
    """One request as the fake service saw it."""

    action: str
    at: float
    uuid: str
    seq: int | None = None
    is_end: bool = False
    data: bytes = b""
    ok: bool = False
    ended_at: float = 0.0
    index: int = -1
    """Which SessionUuid of the run (0 = the first the service saw)."""
    duplicate: bool = False
    """A re-sent Seq the service already had (answered idempotently or refused as a duplicate)."""


@dataclass
class _Heard:
    """What one SessionUuid has received: (service byte position, input byte position, length) runs."""

    runs: list[tuple[int, int, int]] = field(default_factory=list)
    service_bytes: int = 0
    next_seq: int = 0
    ended: bool = False
    last_data: bytes = b""
    versions: dict[int, tuple[int, tuple[object, ...]]] = field(default_factory=dict)


class FakeService:
    """A TsiService on a FakeClock. It locates each packet's audio in `pcm` and reports the `cues` it has
    heard as sentences (newest 5, like Display), timed in its own received-audio ms."""

    def __init__(
        self,
        clock: FakeClock,
        pcm: bytes,
        cues: list[Cue],
        *,
        latency: Callable[[Call], float] | float = 0.0,
        fault: Callable[[Call, int], TsiError | None] | None = None,
        finalize_on_end: bool = True,
        lose_answer: Callable[[Call, int], bool] | None = None,
        duplicates: str = "idempotent",
    ) -> None:
        self.lose_answer = lose_answer
        self.duplicates = duplicates
        """How a re-sent Seq the service already has is answered: "idempotent" (as if new) or "refuse"
        (`InvalidParameter.DuplicatedSessionIdAndSeq`, as the predecessor API did)."""
        self.finalize_on_end = finalize_on_end
        self.clock = clock
        self.pcm = pcm
        self.cues = cues
        self.latency = latency
        self.fault = fault
        self.calls: list[Call] = []
        self.sessions: dict[str, _Heard] = {}
        self.order: list[str] = []
        self.concurrent = 0
        self.max_concurrent_uploads = 0

    def session_index(self, uuid: str) -> int:
        return self.order.index(uuid)

    async def sync(self, request: UploadRequest) -> ApiResult:
        return await self._upload(ACTION_SYNC, request, with_results=True)

    async def recognize(self, request: UploadRequest) -> ApiResult:
        return await self._upload(ACTION_RECOGNIZE, request, with_results=False)

    async def display(self, request: DisplayRequest) -> ApiResult:
        call = Call(ACTION_DISPLAY, self.clock.monotonic(), request.session_uuid)
        self.calls.append(call)
        await self._wait(call)
        error = self.fault(call, 0) if self.fault else None
        if error is not None:
            raise error
        call.ok = True
        heard = self.sessions.get(request.session_uuid)
        return ApiResult("display", self._sentences(heard) if heard else ())

    async def _wait(self, call: Call) -> None:
        delay = self.latency(call) if callable(self.latency) else self.latency
        if delay > 0:
            await self.clock.sleep(delay)
        call.ended_at = self.clock.monotonic()

    async def _upload(self, action: str, request: UploadRequest, *, with_results: bool) -> ApiResult:
        if request.session_uuid not in self.sessions:
            self.sessions[request.session_uuid] = _Heard()
            self.order.append(request.session_uuid)
        heard = self.sessions[request.session_uuid]
        call = Call(
            action, self.clock.monotonic(), request.session_uuid, request.seq, request.is_end, request.data
        )
        call.index = self.order.index(request.session_uuid)
        self.calls.append(call)
        attempt = sum(
            1 for c in self.calls if c.uuid == call.uuid and c.seq == call.seq and c.action == action
        )
        self.concurrent += 1
        self.max_concurrent_uploads = max(self.max_concurrent_uploads, self.concurrent)
        try:
            await self._wait(call)
        finally:
            self.concurrent -= 1
        error = self.fault(call, attempt) if self.fault else None
        if error is not None:
            raise error
        if heard.next_seq > 0 and request.seq == heard.next_seq - 1 and request.data == heard.last_data:
            call.duplicate = True
            if self.duplicates == "refuse":
                raise ApiError("InvalidParameter.DuplicatedSessionIdAndSeq", "duplicated SessionUuid and Seq")
            return ApiResult(f"req-{len(self.calls)}", self._sentences(heard) if with_results else ())
        assert request.seq == heard.next_seq, f"Seq {request.seq} out of order (expected {heard.next_seq})"
        assert not heard.ended, "audio after IsEnd"
        call.ok = True
        heard.next_seq += 1
        real = request.data.rstrip(b"\0")
        if real:
            where = self.pcm.find(real)
            assert where >= 0, "audio that is not in the input"
            heard.runs.append((heard.service_bytes, where, len(real)))
        heard.service_bytes += len(request.data)
        heard.ended = request.is_end
        heard.last_data = request.data
        if self.lose_answer is not None and self.lose_answer(call, attempt):
            raise NetworkError("the answer was lost")
        return ApiResult(f"req-{len(self.calls)}", self._sentences(heard) if with_results else ())

    def _sentences(self, heard: _Heard) -> tuple[DisplayInfo, ...]:
        out: list[DisplayInfo] = []
        for cue in self.cues:
            a, b = cue.start_ms * BPMS, cue.end_ms * BPMS
            parts = [(s, i, n) for s, i, n in heard.runs if i < b and i + n > a]
            if not parts:
                continue
            s0, i0, _ = parts[0]
            first = max(a, i0)
            s_last, i_last, n_last = parts[-1]
            last = min(b, i_last + n_last)
            start_time = (s0 + first - i0) // BPMS
            end_time = (s_last + last - i_last) // BPMS
            whole = first == a and last == b
            final = (last == b and any(i + n > b for _, i, n in heard.runs)) or (
                heard.ended and self.finalize_on_end
            )
            content = (whole, start_time, end_time, final)
            ver, old = heard.versions.get(cue.k, (0, ()))
            if old != content:
                ver += 1
                heard.versions[cue.k] = (ver, content)
            suffix = "" if whole else "~"
            out.append(
                DisplayInfo(
                    str(cue.k), ver, f"S{cue.k}{suffix}", f"T{cue.k}{suffix}", start_time, end_time, final
                )
            )
        return tuple(sorted(out, key=lambda d: -int(d.se_id))[:5])  # the fake numbers its own sentences

    # ----- what tests check -----

    def delivered(self) -> list[tuple[int, int]]:
        """Input byte ranges the service received (successful uploads), in order."""
        out: list[tuple[int, int]] = []
        for uuid in self.order:
            out.extend((i, i + n) for _, i, n in self.sessions[uuid].runs)
        return out

    def uploads(self, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.action != ACTION_DISPLAY and (c.ok or not ok_only)]


class FakeSource:
    """An AudioSource on a FakeClock: live ones deliver each piece when its last sample is 'spoken'."""

    def __init__(
        self,
        pcm: bytes,
        clock: FakeClock,
        *,
        live: bool,
        piece_ms: int = 20,
        description: str = "fake",
        stall_at_ms: int | None = None,
        stall_s: float = 0.0,
        start_error: str | None = None,
        fail_at_ms: int | None = None,
    ) -> None:
        self.pcm = pcm
        self.clock = clock
        self.live = live
        self.piece_ms = piece_ms
        self.description = description
        self.stall_at_ms = stall_at_ms
        self.stall_s = stall_s
        self.start_error = start_error
        self.fail_at_ms = fail_at_ms
        self.started_at: float | None = None
        self.stopped = False
        self.read = 0

    async def start(self) -> None:
        if self.start_error:
            raise AudioInputError(self.start_error)
        self.started_at = self.clock.monotonic()

    async def frames(self) -> AsyncIterator[bytes]:
        assert self.started_at is not None
        origin = self.started_at
        step = self.piece_ms * BPMS
        pos = 0
        while pos < len(self.pcm) and not self.stopped:
            if self.stall_at_ms is not None and pos == self.stall_at_ms * BPMS:
                await self.clock.sleep(self.stall_s)
                origin += self.stall_s
            if self.fail_at_ms is not None and pos >= self.fail_at_ms * BPMS:
                raise AudioInputError("the stream broke")
            piece = self.pcm[pos : pos + step]
            if self.live:
                await self.clock.sleep_until(origin + (pos + len(piece)) / BPMS / 1000)
            else:
                await asyncio.sleep(0)
            pos += len(piece)
            self.read = pos
            yield piece

    async def stop(self) -> None:
        self.stopped = True


@dataclass
class Run:
    """A finished session: its exit code, events with their virtual times, and the fakes."""

    code: int
    events: list[tuple[float, Event]]
    service: FakeService
    source: FakeSource
    clock: FakeClock
    session: InterpreterSession

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for _, e in self.events if isinstance(e, kind)]

    def timed(self, kind: type[Event]) -> list[tuple[float, Event]]:
        return [(t, e) for t, e in self.events if isinstance(e, kind)]

    def final_sentences(self) -> list[Sentence]:
        last: dict[str, Sentence] = {}
        for e in self.of(SentenceRevised):
            assert isinstance(e, SentenceRevised)
            last[e.sentence.key] = e.sentence
        return sorted((s for s in last.values() if s.final), key=lambda s: s.start_ms)


async def run_session(
    pcm: bytes,
    *,
    live: bool = False,
    cues: list[Cue] | None = None,
    latency: Callable[[Call], float] | float = 0.0,
    fault: Callable[[Call, int], TsiError | None] | None = None,
    script: Script | None = None,
    clock: FakeClock | None = None,
    limits: RateLimits | None = None,
    source: FakeSource | None = None,
    audio_tap: Callable[[bytes], None] | None = None,
    finalize_on_end: bool = True,
    lose_answer: Callable[[Call, int], bool] | None = None,
    duplicates: str = "idempotent",
    sinks: list[Callable[[Event], None]] | None = None,
    drive_clock: bool = True,
    **options: object,
) -> Run:
    """Run a session over `pcm` in virtual time, with `script(session, clock)` running beside it.

    `drive_clock=False`: the caller runs the clock (`run_together`, for many sessions on one clock)."""
    clock = clock or FakeClock()
    cues = cues_for(len(pcm) // BPMS) if cues is None else cues
    service = FakeService(
        clock,
        pcm,
        cues,
        latency=latency,
        fault=fault,
        finalize_on_end=finalize_on_end,
        lose_answer=lose_answer,
        duplicates=duplicates,
    )
    source = source or FakeSource(pcm, clock, live=live)
    events: list[tuple[float, Event]] = []
    session = InterpreterSession(
        SessionOptions(**options),  # type: ignore[arg-type]
        service,
        source,
        clock=clock,
        sinks=[lambda e: events.append((clock.monotonic(), e)), *(sinks or [])],
        audio_tap=audio_tap,
        rate_limits=limits,
    )

    async def main() -> int:
        task = asyncio.ensure_future(script(session, clock)) if script else None
        code = await session.run()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return code

    code = await (clock.run(main(), limit=600) if drive_clock else main())
    return Run(code, events, service, source, clock, session)


async def run_together(clock: FakeClock, runs: list[Awaitable[Run]]) -> list[Run]:
    """Run sessions made with `run_session(..., clock=clock, drive_clock=False)` side by side."""

    async def all_of() -> list[Run]:
        return list(await asyncio.gather(*runs))

    return await clock.run(all_of(), limit=600)

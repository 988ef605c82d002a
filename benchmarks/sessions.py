"""Our client under measurement: a real `InterpreterSession` + `TsiClient` against the emulator thread.

The time a request is "on the wire" comes from aiohttp's request tracing (the body handed to the socket),
because the emulator notes arrivals only after any injected latency.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.analysis import Packet
from benchmarks.audio import FileLikeSource, LiveSource
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import process_cpu_s, rss_mib
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.api.models import ApiResult, UploadRequest
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    SentenceRevised,
    ServiceSessionOpened,
    SessionEnded,
    StatsSnapshot,
    StatsUpdated,
)
from tongchuan_tui.pipeline.session import InterpreterSession, SessionOptions

_SEQ = re.compile(rb'"Seq":(\d+)')
_UUID = re.compile(rb'"SessionUuid":"([^"]+)"')


class WireLog:
    """When each upload's body went to the socket, by (SessionUuid, Seq) (the last attempt wins)."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, int], float] = {}
        self.called_at: dict[tuple[str, int], float] = {}
        """When the pipeline called `sync` for the upload (the client's own work starts there)."""

    def trace_config(self) -> aiohttp.TraceConfig:
        """A trace config that records upload bodies as they are written."""
        config = aiohttp.TraceConfig()

        async def on_chunk(
            _s: aiohttp.ClientSession, _c: Any, params: aiohttp.TraceRequestChunkSentParams
        ) -> None:
            now = time.monotonic()
            seq, uuid = _SEQ.search(params.chunk), _UUID.search(params.chunk)
            if seq and uuid:
                self.at[(uuid.group(1).decode(), int(seq.group(1)))] = now

        config.on_request_chunk_sent.append(on_chunk)
        return config


class TracedClient(TsiClient):
    """`TsiClient` whose aiohttp session also carries the bench's trace config (benchmark-only subclass:
    the client offers no hook for it; this leans on its private `_ensure_session`)."""

    def __init__(self, credentials: Credentials, wire: WireLog, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        self._wire = wire

    async def sync(self, request: UploadRequest) -> ApiResult:
        self._wire.called_at[(request.session_uuid, request.seq)] = time.monotonic()
        return await super().sync(request)

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, trace_configs=[self._wire.trace_config()]
            )
        return self._session


@dataclass
class SessionRun:
    """What one session did, from its events, the wire trace and the emulator's view."""

    label: str
    audio_s: float
    packets: list[Packet] = field(default_factory=list)
    """Audio positions relative to the packet's service session; see `opened`."""
    timeline_packets: list[Packet] = field(default_factory=list)
    """The same packets with positions on the session timeline (for lag behind a live source)."""
    chunks: list[ChunkSent] = field(default_factory=list)
    round_trips_ms: list[float] = field(default_factory=list)
    client_overhead_ms: list[float] = field(default_factory=list)
    """From the pipeline's `sync` call to the body on the socket: JSON, base64, signing, aiohttp."""
    opened: dict[str, tuple[float, int]] = field(default_factory=dict)
    """SessionUuid → (monotonic time it opened, timeline offset ms)."""
    stats: list[StatsSnapshot] = field(default_factory=list)
    revisions: int = 0
    finals: int = 0
    exit_code: int = -1
    end_reason: str = ""
    wall_s: float = 0.0
    cpu_client_s: float = 0.0
    cpu_loop_thread_s: float = 0.0
    rss_mib: float = 0.0
    emulator_violations: int = 0
    emulator_sessions: int = 0
    missing_wire: int = 0


def session_options(chunk_ms: int, description: str, host: str) -> SessionOptions:
    """The options the CLI would build for `--input … --endpoint EMULATOR --plain`."""
    return SessionOptions(
        source="zh",
        target="en",
        mode="sync",
        chunk_ms=chunk_ms,
        input_description=description,
        endpoint_host=host,
        emulated=True,
        end_timeout_s=5.0,
    )


def _collect(run: SessionRun, ended: asyncio.Event) -> Callable[[Event], None]:
    def sink(event: Event) -> None:
        if isinstance(event, ServiceSessionOpened):
            run.opened[event.session_uuid] = (time.monotonic(), event.offset_ms)
        elif isinstance(event, ChunkSent):
            run.chunks.append(event)
        elif isinstance(event, SentenceRevised):
            run.revisions += 1
            run.finals += event.sentence.final
        elif isinstance(event, StatsUpdated):
            run.stats.append(event.stats)
        elif isinstance(event, SessionEnded):
            run.end_reason = event.reason
            ended.set()

    return sink


def _join_wire(run: SessionRun, wire: WireLog) -> None:
    """Packets from the ChunkSent events, timed by when their (last) attempt went on the wire."""
    for chunk in run.chunks:
        at = wire.at.get((chunk.session_uuid, chunk.seq))
        if at is None:
            run.missing_wire += 1
            continue
        opened_at, offset = run.opened[chunk.session_uuid]
        run.timeline_packets.append(
            Packet(chunk.seq, chunk.audio_start_ms, chunk.duration_ms, at, chunk.is_end, chunk.session_uuid)
        )
        run.packets.append(
            Packet(
                chunk.seq,
                chunk.audio_start_ms - offset,
                chunk.duration_ms,
                at - opened_at,
                chunk.is_end,
                chunk.session_uuid,
            )
        )
        run.round_trips_ms.append(chunk.round_trip_ms)
        called = wire.called_at.get((chunk.session_uuid, chunk.seq))
        if called is not None:
            run.client_overhead_ms.append((at - called) * 1000)


async def run_session(
    emu: EmulatorThread,
    source: LiveSource | FileLikeSource,
    *,
    label: str,
    audio_s: float,
    chunk_ms: int = 200,
    during: Callable[[], Awaitable[None]] | None = None,
    wrap: Callable[[InterpreterSession], Awaitable[int]] | None = None,
) -> SessionRun:
    """Run one session to the end of its audio; `during` runs alongside (fault changes); `wrap` runs the
    session some other way (inside the UI) and returns its exit code.

    `packets[i].wire_at` is relative to its service session's opening, so `analysis.pacing(packets, 0.0)`
    judges the 1:1 rule; `timeline_packets` keep absolute times for lag behind a live source.
    """
    handle = emu.handle
    run = SessionRun(label=label, audio_s=audio_s)
    wire = WireLog()
    ended = asyncio.Event()
    creds = Credentials(handle.secret_id, handle.secret_key)
    async with TracedClient(creds, wire, endpoint=handle.url, timeout_s=10.0) as client:
        session = InterpreterSession(
            session_options(chunk_ms, source.description, client.endpoint_host),
            client,
            source,
            sinks=[_collect(run, ended)],
        )
        emu_cpu0, cpu0, loop_cpu0, t0 = emu.cpu_s(), process_cpu_s(), time.thread_time(), time.monotonic()
        helper = asyncio.ensure_future(during()) if during is not None else None
        run.exit_code = await (wrap(session) if wrap is not None else session.run())
        run.wall_s = time.monotonic() - t0
        run.cpu_loop_thread_s = time.thread_time() - loop_cpu0
        cpu = process_cpu_s() - cpu0
        if helper is not None:
            helper.cancel()
            await asyncio.gather(helper, return_exceptions=True)
        source_cpu = source.thread_cpu_s if isinstance(source, LiveSource) else 0.0
        run.cpu_client_s = cpu - (emu.cpu_s() - emu_cpu0) - source_cpu
        run.rss_mib = rss_mib()
    _join_wire(run, wire)
    sessions = [s for s in handle.state.sessions if s.session_uuid in run.opened]
    run.emulator_sessions = len(sessions)
    run.emulator_violations = sum(len(s.pacing_violations) + len(s.gap_violations) for s in sessions)
    return run


def live_source(pcm: bytes, frame_ms: int) -> LiveSource:
    """A real-time source handing over `frame_ms` frames."""
    return LiveSource(pcm, frame_ms=frame_ms, description=f"bench:live/{frame_ms}ms")


def file_source(pcm: bytes) -> FileLikeSource:
    """A non-live source read as fast as the session takes it."""
    return FileLikeSource(pcm)


async def latency_steps(emu: EmulatorThread, steps: Sequence[tuple[float, float]], log: list[float]) -> None:
    """Set the emulator's injected latency to `ms` at each `(at_s, ms)` (seconds from now); `log` gets the
    monotonic time of each change."""
    t0 = time.monotonic()
    for at_s, ms in steps:
        await asyncio.sleep(max(0.0, t0 + at_s - time.monotonic()))
        emu.handle.set_faults(latency_ms=ms)
        log.append(time.monotonic())

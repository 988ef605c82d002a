"""Measure 7: packet timing while the live server feeds 50 SSE clients, one never reading (issue 11)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from benchmarks.analysis import pacing
from benchmarks.audio import speech_pcm
from benchmarks.emulator_thread import EmulatorThread
from benchmarks.measure import LoopLag, fmt, summarize
from benchmarks.report import Section, prose
from benchmarks.sessions import SessionRun, file_source, run_session
from tongchuan_tui.outputs.server import LiveServer, ServerOptions
from tongchuan_tui.pipeline.session import InterpreterSession

CLIENTS = 50
SLACK_MS = 5.0
"""How much worse the served run's p99 pacing error may be than the session alone."""


@dataclass
class ServeRun:
    """One session run, alone or serving the clients."""

    name: str
    run: SessionRun
    loop_lag_ms: list[float]
    clients: int = 0
    received: list[int] = field(default_factory=list)
    """Per reading client, the SSE events it read."""
    resyncs: int = 0


class Audience:
    """SSE clients on a thread and loop of their own, as remote viewers would be: readers, one staller."""

    def __init__(self, url: str, port: int, readers: int) -> None:
        self.url = url
        self.port = port
        self.readers = readers
        self.received = [0] * readers
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sse-audience", daemon=True)
        self._tasks: list[asyncio.Future[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._staller = socket.socket()

    def start(self) -> None:
        """Connect everyone (the staller with a tiny receive buffer it never reads)."""
        self._staller.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._staller.connect(("127.0.0.1", self.port))
        self._staller.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode())
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(30)

    async def _open(self) -> None:
        self._http = aiohttp.ClientSession(read_bufsize=1 << 22)
        self._tasks = [asyncio.ensure_future(self._read(i)) for i in range(self.readers)]

    async def _read(self, index: int) -> None:
        assert self._http is not None
        async with self._http.get(self.url + "events") as response:
            async for line in response.content:
                if line.startswith(b"id:"):
                    self.received[index] += 1

    def stop(self) -> None:
        """Disconnect everyone and end the thread (bounded)."""

        async def close() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._http is not None:
                await self._http.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._staller.close()


def _served(server: LiveServer) -> Callable[[InterpreterSession], Awaitable[int]]:
    async def run(session: InterpreterSession) -> int:
        session.add_sink(server.sink)
        return await session.run()

    return run


async def serve_runs(emu: EmulatorThread, seconds: float) -> list[ServeRun]:
    """The same non-live session alone, then with the server feeding CLIENTS clients (one never reading)."""
    pcm = speech_pcm(seconds)
    lag = LoopLag()
    alone = await run_session(emu, file_source(pcm), label="session alone", audio_s=seconds, during=lag.run)
    out = [ServeRun("session alone", alone, lag.lags_ms)]
    server = LiveServer(ServerOptions("127.0.0.1", 0, max_clients=CLIENTS))
    server.start()
    audience = Audience(server.url, server.port, CLIENTS - 1)
    try:
        audience.start()
        for _ in range(500):
            if server.clients >= CLIENTS:
                break
            await asyncio.sleep(0.01)
        clients = server.clients
        lag = LoopLag()
        name = f"serving {CLIENTS} SSE clients, 1 never reading"
        run = await run_session(
            emu, file_source(pcm), label=name, audio_s=seconds, during=lag.run, wrap=_served(server)
        )
        await asyncio.sleep(0.5)  # let the readers take the last events before counting
        out.append(ServeRun(name, run, lag.lags_ms, clients, list(audience.received), server.dropped))
    finally:
        audience.stop()
        server.close()
    return out


def outputs_section(runs: list[ServeRun]) -> Section:
    """Measure 7."""
    sec = Section(
        "7. Live server under 50 clients (issue 11)",
        prose(
            f"""
            The same non-live session (paced 1:1 by the scheduler) alone, then with the live server
            (`outputs.server`, its own thread and loop) subscribed and {CLIENTS} SSE clients on `/events`:
            {CLIENTS - 1} aiohttp readers on a thread of their own, and one raw socket with a 4 KiB receive
            buffer that never reads. *Resyncs* counts how often a client's bounded queue overflowed and was
            replaced by a snapshot (only the staller's can; a short run may
            not fill it). *Loop lag* is how late a 5 ms sleeper on the
            session's loop wakes.
            """
        ),
    )
    rows = []
    for r in runs:
        pace = pacing(r.run.packets, 0.0)
        errors = [abs(e) for e in pace.errors_ms]
        received = summarize([float(n) for n in r.received]) if r.received else None
        rows.append(
            [
                r.name,
                pace.abs_error.n,
                fmt(summarize(errors).p50),
                fmt(summarize(errors).p99),
                fmt(summarize(errors).max),
                pace.ahead,
                fmt(summarize(r.loop_lag_ms).p99),
                r.clients or "–",
                r.run.revisions,
                f"{received.p50:.0f} / {min(r.received)}" if received is not None else "–",
                r.resyncs if r.clients else "–",
            ]
        )
    sec.table(
        [
            "condition",
            "packets",
            "|pacing error| p50 ms",
            "p99 ms",
            "max ms",
            "ahead",
            "loop lag p99 ms",
            "clients",
            "revisions",
            "events read per reader p50 / min",
            "resyncs",
        ],
        rows,
    )
    if len(runs) == 2:
        calm = summarize([abs(e) for e in pacing(runs[0].run.packets, 0.0).errors_ms]).p99
        busy = summarize([abs(e) for e in pacing(runs[1].run.packets, 0.0).errors_ms]).p99
        ahead = sum(pacing(r.run.packets, 0.0).ahead for r in runs)
        sec.target(
            f"packet timing undisturbed by {CLIENTS} clients",
            f"p99 pacing error ≤ session alone + {SLACK_MS:.0f} ms; none ahead",
            f"{fmt(calm)} → {fmt(busy)} ms; {ahead} ahead",
            busy <= calm + SLACK_MS and ahead == 0,
        )
        served = runs[1]
        least = min(served.received) if served.received else 0
        sec.target(
            "every reading client keeps up",
            "each reader reads at least one event per revision",
            f"min {least} events for {served.run.revisions} revisions",
            least >= served.run.revisions,
        )
    return sec

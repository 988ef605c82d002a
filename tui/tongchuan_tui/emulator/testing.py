"""Run the emulator inside tests (or the in-process demo): in the current event loop, or in its own thread
for blocking clients such as the official SDK."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from tongchuan_tui.emulator.cues import CueScript
from tongchuan_tui.emulator.faults import FaultConfig
from tongchuan_tui.emulator.options import EmulatorOptions
from tongchuan_tui.emulator.server import EmulatorServer
from tongchuan_tui.emulator.state import EmulatorState
from tongchuan_tui.emulator.variants import WireVariant

TEST_SECRET_ID = "emu-test-id"
TEST_SECRET_KEY = "emu-test-key"

CuesArg = CueScript | str | Path | Sequence[Mapping[str, Any]] | Mapping[str, Any] | None


class OffsetClock:
    """The wall clock plus an adjustable offset: lets a test jump the emulator's time (a 7 s gap, a skewed
    server) without waiting, while real requests still flow."""

    def __init__(self, offset_s: float = 0.0, base: Callable[[], float] = time.time) -> None:
        self.offset_s = offset_s
        self._base = base

    def __call__(self) -> float:
        return self._base() + self.offset_s

    def advance(self, seconds: float) -> None:
        """Move the emulator's time forward by `seconds`."""
        self.offset_s += seconds


class EmulatorHandle:
    """A running emulator: where it listens, the keys it accepts, what it has seen, and its fault controls."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. "http://127.0.0.1:8765/"."""
        return self.server.url

    @property
    def host(self) -> str:
        """The address it listens on."""
        return self.server.host

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self.server.port

    @property
    def endpoint(self) -> str:
        """ "host:port", as the official SDK's HttpProfile(endpoint=...) wants it."""
        return self.url.removeprefix("http://").rstrip("/")

    @property
    def secret_id(self) -> str:
        """The SecretId it accepts."""
        return self.server.options.secret_id

    @property
    def secret_key(self) -> str:
        """The SecretKey it accepts."""
        return self.server.options.secret_key

    @property
    def token(self) -> str | None:
        """The X-TC-Token it requires, if started with one."""
        return self.server.options.token

    @property
    def state(self) -> EmulatorState:
        """A snapshot of every session (packets, drops, violations, sentences) and the recent requests."""
        return self.server.state

    @property
    def faults(self) -> FaultConfig:
        """The faults in force."""
        return self.server.faults.config

    def set_faults(self, config: FaultConfig | None = None, **fields: Any) -> FaultConfig:
        """Replace the faults in force with `config` or FaultConfig(**fields); returns the new config."""
        new = config if config is not None else FaultConfig(**fields)
        if config is not None and fields:
            new = dataclasses.replace(config, **fields)
        self.server.faults.set(new)
        return new

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        self.server.faults.set(FaultConfig())

    @property
    def variant(self) -> WireVariant:
        """How it answers on the points the API reference leaves open."""
        return self.server.variant


def load_cues(cues: CuesArg) -> CueScript | None:
    """A CueScript from a script, a path, or the parsed JSON of one."""
    if cues is None or isinstance(cues, CueScript):
        return cues
    if isinstance(cues, str | Path):
        return CueScript.load(Path(cues))
    return CueScript.from_json(cues if isinstance(cues, Mapping) else list(cues))


@asynccontextmanager
async def running_emulator(
    *,
    cues: CuesArg = None,
    secret_id: str = TEST_SECRET_ID,
    secret_key: str = TEST_SECRET_KEY,
    token: str | None = None,
    clock: Callable[[], float] | None = None,
    faults: FaultConfig | None = None,
    loop_cues: bool = False,
    port: int = 0,
    host: str = "127.0.0.1",
    variant: WireVariant | None = None,
    **overrides: Any,
) -> AsyncIterator[EmulatorHandle]:
    """Serve an emulator in the running event loop for the duration of the block.

    `variant` picks the answers on the reference's open points; `overrides` are further EmulatorOptions
    fields (rate_limits, max_body_bytes, gap_limit_s, segmenter...).
    """
    options = EmulatorOptions(
        secret_id=secret_id,
        secret_key=secret_key,
        token=token,
        host=host,
        port=port,
        cues=load_cues(cues),
        loop_cues=loop_cues,
        faults=faults or FaultConfig(),
        variant=variant or WireVariant(),
    )
    if overrides:
        options = dataclasses.replace(options, **overrides)
    server = EmulatorServer(options, clock=clock or time.time)
    await server.start()
    try:
        yield EmulatorHandle(server)
    finally:
        await server.stop()


@contextmanager
def run_emulator_in_thread(**kwargs: Any) -> Iterator[EmulatorHandle]:
    """Like running_emulator, but on its own event loop in a daemon thread, for blocking clients (the SDK)."""
    ready: concurrent.futures.Future[EmulatorHandle] = concurrent.futures.Future()
    loop = asyncio.new_event_loop()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        stop.append(asyncio.Event())
        try:
            async with running_emulator(**kwargs) as handle:
                ready.set_result(handle)
                await stop[0].wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="emulator", daemon=True)
    thread.start()
    try:
        handle = ready.result(timeout=10)
        yield handle
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()

"""The in-process emulator on a thread of its own, with its own event loop.

So the client under test and the emulator do not share a loop (the emulator's work would otherwise show up
as the client's latency and CPU), and a blocking client (the baseline) can talk to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from tongchuan_tui.emulator.testing import running_emulator

T = TypeVar("T")


class EmulatorThread:
    """`with EmulatorThread(**options) as emu:` — `emu.handle` is `running_emulator`'s handle."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="bench-emulator", daemon=True)
        self.handle: Any = None

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with running_emulator(**self._options) as handle:
                self._ready.set_result(handle)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def __enter__(self) -> EmulatorThread:
        self._thread.start()
        self.handle = self._ready.result(timeout=30)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the emulator's loop thread (where its state lives) and return its result."""
        assert self._loop is not None
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def cpu_s(self) -> float:
        """CPU time the emulator's thread has used so far."""
        return self.call(time.thread_time)

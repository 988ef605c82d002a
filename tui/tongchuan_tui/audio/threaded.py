"""The shared shape of every source: blocking I/O in a source-owned thread, PCM handed over via a PcmPipe."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable

from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError

logger = logging.getLogger(__name__)


class ThreadedSource(ABC):
    """An AudioSource whose input is opened and read by blocking calls in its own worker thread.

    Subclasses implement `_open` (blocking; raises AudioInputError), `_produce` (the worker loop, feeding the
    pipe until the input ends or the pipe closes) and `_release` (called in the worker when it ends, or after
    a failed or never-started run).
    """

    description: str
    live: bool
    max_items = 64
    """Queue bound, in pieces (each typically 20..200 ms)."""
    join_timeout_s = 2.0
    """How long `stop` waits for the worker; one stuck in a blocking read is a daemon, abandoned."""

    def __init__(self) -> None:
        self._pipe: PcmPipe | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.on_warning: Callable[[str], None] | None = None
        """Called on the event loop's thread with one line the user should see (a URL reconnecting...)."""

    def _warn(self, message: str) -> None:
        """Log `message` and hand it to `on_warning` on the loop's thread (safe from the worker)."""
        logger.warning("%s", message)
        handler, loop = self.on_warning, self._loop
        if handler is not None and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
                loop.call_soon_threadsafe(handler, message)

    @property
    def dropped_bytes(self) -> int:
        """Audio dropped because the consumer fell behind (live sources only)."""
        return self._pipe.dropped_bytes if self._pipe is not None else 0

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _produce(self, pipe: PcmPipe) -> None: ...

    @abstractmethod
    def _release(self) -> None: ...

    async def start(self) -> None:
        """Open the input (in a thread: opening may block on a network or a device) and start reading."""
        if self._pipe is not None:
            raise RuntimeError(f"{self.description} already started")
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(self._open)
        except BaseException:
            await asyncio.to_thread(self._release)
            raise
        self._pipe = PcmPipe(asyncio.get_running_loop(), max_items=self.max_items, drop_oldest=self.live)
        self._thread = threading.Thread(target=self._worker, name=f"audio {self.description}", daemon=True)
        self._thread.start()

    def _worker(self) -> None:
        assert self._pipe is not None
        error: AudioInputError | None = None
        try:
            self._produce(self._pipe)
        except AudioInputError as exc:
            error = exc
        except Exception as exc:
            logger.exception("audio input %s failed", self.description)
            error = AudioInputError(f"{self.description}: input failed: {exc}")
        finally:
            try:
                self._release()
            except Exception:
                logger.exception("releasing audio input %s", self.description)
            self._pipe.finish(error)

    async def frames(self) -> AsyncIterator[bytes]:
        """PCM pieces until the input ends (raises AudioInputError if it failed) or `stop` is called."""
        if self._pipe is None:
            raise RuntimeError(f"{self.description}: start() before frames()")
        async for piece in self._pipe.items():
            yield piece

    async def stop(self) -> None:
        """Stop reading and release the input; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._pipe is None:
            return
        self._pipe.close()
        if self._thread is not None and self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, self.join_timeout_s)
            if self._thread.is_alive():
                logger.warning(
                    "audio input %s did not stop within %.1f s", self.description, self.join_timeout_s
                )

"""The bridge from a source's worker thread to the event loop: a bounded PCM queue.

Non-live sources (file, stdin) block their thread when the queue is full (backpressure: nothing is lost);
live ones (mic, URL) cannot wait, so the oldest queued piece is dropped and counted instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tongchuan_tui.audio.source import AudioInputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Ended:
    """The producer finished, cleanly or with an error."""

    error: AudioInputError | None


class PcmPipe:
    """A bounded queue of PCM pieces, filled from one thread and drained by one asyncio consumer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, max_items: int = 64, drop_oldest: bool) -> None:
        self._loop = loop
        self._max_items = max_items
        self._drop_oldest = drop_oldest
        # Unbounded on the asyncio side; the bound is enforced here so the end marker always fits.
        self._queue: asyncio.Queue[bytes | _Ended] = asyncio.Queue()
        self._space = threading.Semaphore(max_items)
        self._closed = threading.Event()
        self.dropped_bytes = 0
        """Bytes dropped because the consumer fell behind a live producer."""

    @property
    def closed(self) -> bool:
        """The consumer has gone: the producer should stop."""
        return self._closed.is_set()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block the producer thread until the consumer closes (or `timeout`); True when closed."""
        return self._closed.wait(timeout)

    # --- producer (worker thread) side ---

    def put(self, pcm: bytes) -> bool:
        """Queue a piece; blocks while full unless dropping. False once closed (the producer should stop)."""
        if self._closed.is_set():
            return False
        if not self._drop_oldest:
            self._space.acquire()  # `close` releases it, so a producer waiting here always wakes
        if self._closed.is_set():
            return False
        try:
            self._loop.call_soon_threadsafe(self._deliver, pcm)
        except RuntimeError:  # the loop has closed under us
            self._closed.set()
            return False
        return True

    def finish(self, error: AudioInputError | None = None) -> None:
        """The producer has no more audio; `error` is raised to the consumer after what was queued."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            self._loop.call_soon_threadsafe(self._queue.put_nowait, _Ended(error))

    # --- consumer (event loop) side ---

    def _deliver(self, pcm: bytes) -> None:
        if self._drop_oldest and self._queue.qsize() >= self._max_items:
            oldest = self._queue.get_nowait()
            if isinstance(oldest, _Ended):  # cannot happen (nothing follows the end), but never lose it
                self._queue.put_nowait(oldest)
                return
            self.dropped_bytes += len(oldest)
            logger.debug("consumer behind a live source: dropped %d bytes", len(oldest))
        self._queue.put_nowait(pcm)

    def close(self) -> None:
        """Stop: wakes the producer (which then sees `closed`) and ends a pending `items()`."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._space.release()
        self._queue.put_nowait(_Ended(None))

    async def items(self) -> AsyncIterator[bytes]:
        """The queued pieces in order, until the producer finishes or the pipe is closed."""
        while not self._closed.is_set():
            item = await self._queue.get()
            if isinstance(item, _Ended):
                if item.error is not None and not self._closed.is_set():
                    raise item.error
                return
            if not self._drop_oldest:
                self._space.release()
            if self._closed.is_set():
                return
            yield item

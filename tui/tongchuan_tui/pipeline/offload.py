"""A subscriber that does its work on its own thread: the engine's loop only queues the item and goes on.

The journal (file writes, fsyncs), the audio recorder (WAV headers, FLAC encoding) and the headless
printers (a pipe whose reader is slow) all block now and then; wrapped in a `ThreadedSink` they run in
their own thread, in order, and nothing on the send path waits for them.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_PENDING = 100_000
"""Items held while the thread is behind (a disk that stalls); beyond this the oldest are dropped."""
CLOSE_TIMEOUT_S = 10.0


class ThreadedSink(Generic[T]):
    """Calls `target` with each item on a thread of its own, in the order given; `close()` at the end.

    Calling it never blocks (the queue is bounded by dropping the oldest, counted in `dropped`); `target`'s
    exceptions are logged once and do not stop the thread. `on_close` runs on the thread after the last item,
    so a file is finished only once everything queued is in it.
    """

    def __init__(
        self,
        target: Callable[[T], None],
        *,
        name: str,
        on_close: Callable[[], None] | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.target = target
        self._on_close = on_close
        self._items: collections.deque[T] = collections.deque(maxlen=max_pending)
        self._ready = threading.Condition()
        self._closing = False
        self._failed = False
        self._queued = 0
        self.dropped = 0
        self.handled = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def __call__(self, item: T) -> None:
        """Queue `item` for the thread (ignored once closing)."""
        with self._ready:
            if self._closing:
                return
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
            self._queued += 1
            self._ready.notify()

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> bool:
        """Finish what is queued, run `on_close`, and wait for the thread (bounded); True if it finished."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("%s: still busy after %.0f s; going on without it", self._thread.name, timeout_s)
            return False
        return True

    def drained(self, timeout_s: float) -> bool:
        """Wait until every item queued so far has been handled (tests, a viewer catching up)."""
        with self._ready:
            return self._ready.wait_for(lambda: self.handled + self.dropped >= self._queued, timeout_s)

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._items) or self._closing)
                if not self._items:
                    break
                item = self._items.popleft()
            try:
                self.target(item)
            except Exception:
                if not self._failed:
                    self._failed = True
                    log.exception("%s failed; later failures are not logged", self._thread.name)
            with self._ready:
                self.handled += 1
                self._ready.notify_all()
        if self._on_close is not None:
            try:
                self._on_close()
            except Exception:
                log.exception("%s: closing failed", self._thread.name)

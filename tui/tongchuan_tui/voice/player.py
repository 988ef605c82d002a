"""Playing the voice live on an output device through PyAudio (`--voice-device SPEC`).

The player writes to the device from a thread of its own, paced by the wall clock: it keeps `LEAD_MS` of
audio ahead of real time in the device's buffer (speech when some is queued, else silence), so a device
with a clock of its own never starves and one without (ALSA's `file` plugin over `null`) is not flooded.
Muted, it plays silence in place of the queued speech (the queue still drains: unmuting is live).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tongchuan_tui.voice.devices import open_output_stream

log = logging.getLogger(__name__)

LEAD_MS = 200
PIECE_MS = 20
CLOSE_TIMEOUT_S = 30.0
"""At the end, how long the queue may still play out before the device is closed."""


class VoicePlayer:
    """A paced writer of the voice to one output device; `enqueue` never blocks."""

    def __init__(
        self,
        spec: str,
        rate: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        lead_ms: int = LEAD_MS,
        opener: Callable[[str, int], tuple[Any, Any, str]] = open_output_stream,
    ) -> None:
        """`opener(spec, rate)` gives (PyAudio, an open output stream, the device's name), or VoiceError."""
        self.spec = spec
        self.rate = rate
        self._opener = opener
        self._clock = clock
        self._lead = lead_ms * rate // 1000
        self._piece = PIECE_MS * rate // 1000
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued_samples = 0
        self._lock = threading.Condition()
        self._stopping = False
        self._muted = False
        self._pa: Any = None
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self.description = spec
        self.error: str | None = None
        """Why playback stopped, if the device failed mid-session."""

    def start(self) -> None:
        """Open the device now (raises VoiceError with one line) and start playing silence."""
        self._pa, self._stream, self.description = self._opener(self.spec, self.rate)
        self._started_at = self._clock()
        self._thread = threading.Thread(target=self._run, name="voice-player", daemon=True)
        self._thread.start()

    def now_ms(self) -> int:
        """Milliseconds since the player started (the clock its planner places sentences on)."""
        return round((self._clock() - self._started_at) * 1000)

    @property
    def muted(self) -> bool:
        """Whether speech is replaced by silence."""
        return self._muted

    def set_muted(self, muted: bool) -> None:
        """Mute or unmute (takes effect within one piece, 20 ms)."""
        self._muted = muted

    def queued_ms(self) -> int:
        """Speech waiting to be played."""
        return self._queued_samples * 1000 // self.rate

    def enqueue(self, pcm: bytes) -> None:
        """Play `pcm` (s16le mono at `rate`) after whatever is queued."""
        with self._lock:
            self._queue.append(pcm)
            self._queued_samples += len(pcm) // 2
            self._lock.notify()

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Let the queue play out (bounded), then close the device. Idempotent."""
        deadline = time.monotonic() + timeout_s  # a real bound, whatever clock paces the playback
        with self._lock:
            while self._queue and self.error is None and time.monotonic() < deadline:
                self._lock.wait(timeout=0.1)
            self._stopping = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        stream, pa, self._stream, self._pa = self._stream, self._pa, None, None
        try:
            if stream is not None:
                stream.stop_stream()
                stream.close()
        except Exception:
            log.exception("closing the voice device failed")
        finally:
            if pa is not None:
                pa.terminate()

    def _next_piece(self) -> bytes:
        with self._lock:
            if not self._queue:
                return bytes(self._piece * 2)
            head = self._queue[0]
            piece, rest = head[: self._piece * 2], head[self._piece * 2 :]
            if rest:
                self._queue[0] = rest
            else:
                self._queue.popleft()
                self._lock.notify_all()  # close() may be waiting for the queue to empty
            self._queued_samples -= len(piece) // 2
        return bytes(len(piece)) if self._muted else piece

    def _run(self) -> None:
        written = 0
        try:
            while not self._stopping:
                due = int((self._clock() - self._started_at) * self.rate) + self._lead
                while written < due and not self._stopping:
                    piece = self._next_piece()
                    self._stream.write(piece)
                    written += len(piece) // 2
                with self._lock:
                    if not self._stopping:
                        self._lock.wait(timeout=PIECE_MS / 1000)
        except Exception as exc:
            log.exception("voice playback on %s failed", self.description)
            with self._lock:
                self.error = f"voice playback on {self.description} stopped: {exc}"
                self._queue.clear()
                self._queued_samples = 0
                self._lock.notify_all()

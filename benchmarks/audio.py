"""The audio the benchmarks feed: the bundled demo speech, as a live or a non-live source."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

from tongchuan_tui.audio.decode import decode_file
from tongchuan_tui.audio.format import BYTES_PER_MS

DEMO_AUDIO = Path(__file__).resolve().parent.parent / "tui" / "tongchuan_tui" / "demo" / "demo-zh.ogg"
FRAME_MS = 20
"""Size of the pieces a source hands over, like a microphone callback's buffer."""


@cache
def _demo_pcm() -> bytes:
    return decode_file(str(DEMO_AUDIO))


def speech_pcm(seconds: float) -> bytes:
    """`seconds` of the demo's Mandarin speech as 16 kHz mono s16le (looped if longer than the recording)."""
    pcm = _demo_pcm()
    size = int(seconds * 1000) * BYTES_PER_MS
    reps = size // len(pcm) + 1
    return (pcm * reps)[:size]


class LiveSource:
    """A microphone stand-in: a thread hands over frames in real time, noting when each was ready.

    `available_at(audio_ms)` is the monotonic time at which the sample just before `audio_ms` was handed to
    asyncio, i.e. the earliest moment a client could send a packet ending there.
    """

    live = True

    def __init__(self, pcm: bytes, *, frame_ms: int = FRAME_MS, description: str = "bench:live") -> None:
        self.description = description
        self._pcm = pcm
        self.frame_ms = frame_ms
        self._frame_bytes = frame_ms * BYTES_PER_MS
        self._stop = threading.Event()
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._thread: threading.Thread | None = None
        self.handed_at: list[float] = []
        """Monotonic hand-over time of frame i (audio [i*frame_ms, (i+1)*frame_ms) ms)."""
        self.thread_cpu_s = 0.0
        self.started_at = 0.0

    async def start(self) -> None:
        """Start the real-time thread."""
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, args=(loop,), name="bench-live-source", daemon=True)
        self._thread.start()

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        cpu0 = time.thread_time()
        self.started_at = t0 = time.monotonic()
        frames = [self._pcm[i : i + self._frame_bytes] for i in range(0, len(self._pcm), self._frame_bytes)]
        for index, frame in enumerate(frames):
            due = t0 + (index + 1) * self.frame_ms / 1000
            # Sleep until the frame's last sample "has been captured", as a sound card would deliver it.
            while (delay := due - time.monotonic()) > 0:
                if self._stop.wait(delay):
                    break
            if self._stop.is_set():
                break
            self.handed_at.append(time.monotonic())
            loop.call_soon_threadsafe(self._queue.put_nowait, frame)
        self.thread_cpu_s = time.thread_time() - cpu0
        loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def frames(self) -> AsyncIterator[bytes]:
        """Frames as the thread hands them over, until the audio ends or `stop` is called."""
        while (frame := await self._queue.get()) is not None:
            yield frame

    async def stop(self) -> None:
        """Stop the thread (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)

    def available_at(self, audio_ms: int) -> float | None:
        """When the sample ending at `audio_ms` was available, or None if it never was."""
        index = (audio_ms - 1) // self.frame_ms
        return self.handed_at[index] if 0 <= index < len(self.handed_at) else None


class FileLikeSource:
    """A non-live source (file, stdin): frames as fast as the consumer takes them; pacing is the client's."""

    live = False

    def __init__(self, pcm: bytes, description: str = "bench:file") -> None:
        self.description = description
        self._pcm = pcm
        self._stopped = False

    async def start(self) -> None:
        """Nothing to open."""

    async def frames(self) -> AsyncIterator[bytes]:
        """20 ms frames, yielding to the loop between them."""
        step = FRAME_MS * BYTES_PER_MS
        for i in range(0, len(self._pcm), step):
            if self._stopped:
                return
            yield self._pcm[i : i + step]
            await asyncio.sleep(0)

    async def stop(self) -> None:
        """End a pending iteration."""
        self._stopped = True

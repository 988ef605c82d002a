"""The audio waiting to be sent, each byte tagged with its place on the session timeline.

Positions are in bytes of 16 kHz s16le mono PCM on the session timeline (32 bytes per ms): the timeline
advances with every byte the input delivers, including audio later dropped for being too far behind live,
and stops while paused (audio discarded then never enters the backlog).

Live inputs cannot be slowed, so beyond `max_bytes` the OLDEST audio is dropped, in steps of at least
`DROP_STEP_MS` so a steadily late stream makes one gap a second or so rather than one per input frame.
Non-live inputs (file, stdin) wait for `has_space` instead and lose nothing.

Audio already delivered is kept a while longer (`delivered`, up to `keep_bytes`): when a service session is
abandoned, the next one is re-sent the audio from the start of the sentence that was being spoken
(`rewind`), so the rollover does not cut it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tongchuan_tui.audio.format import BYTES_PER_MS

DROP_STEP_MS = 500
KEEP_DELIVERED_MS = 15_000
"""Delivered audio kept for a rollover to re-send: a sentence longer than this is cut (and marked so)."""


@dataclass
class Piece:
    """Contiguous timeline audio: `data` starts at timeline byte `start`."""

    start: int
    data: bytes

    @property
    def end(self) -> int:
        """The timeline byte just after this piece."""
        return self.start + len(self.data)


@dataclass
class _Segment:
    start: int
    buf: bytearray


class Backlog:
    """A FIFO of timeline-tagged PCM with a bound (drop oldest when live, backpressure otherwise)."""

    def __init__(
        self,
        max_bytes: int,
        *,
        live: bool,
        on_drop: Callable[[int, int], None],
        keep_bytes: int = KEEP_DELIVERED_MS * BYTES_PER_MS,
    ) -> None:
        self.max_bytes = max_bytes
        self.keep_bytes = keep_bytes
        self._kept: deque[Piece] = deque()
        self._kept_size = 0
        self.live = live
        self._on_drop = on_drop
        self._segments: deque[_Segment] = deque()
        self._size = 0
        self.tail = 0
        """The timeline position just after the newest audio received."""
        self.space = asyncio.Event()
        self.space.set()

    def __len__(self) -> int:
        return self._size

    @property
    def head(self) -> int:
        """The timeline position of the oldest queued byte (`tail` when empty)."""
        return self._segments[0].start if self._segments else self.tail

    def has_space(self) -> bool:
        """Whether a non-live reader may add more."""
        return self._size < self.max_bytes

    def append(self, data: bytes) -> None:
        """Add newly received audio at the tail of the timeline."""
        if not data:
            return
        last = self._segments[-1] if self._segments else None
        if last is not None and last.start + len(last.buf) == self.tail:
            last.buf.extend(data)
        else:
            self._segments.append(_Segment(self.tail, bytearray(data)))
        self._size += len(data)
        self.tail += len(data)
        if self.live and self._size > self.max_bytes:
            excess = self._size - self.max_bytes
            step = max(excess, DROP_STEP_MS * BYTES_PER_MS)
            step += -step % BYTES_PER_MS
            self._drop_front(min(step, self._size))
        self._update_space()

    def bytes_before(self, limit: int) -> int:
        """Queued bytes whose timeline position is before `limit`."""
        total = 0
        for segment in self._segments:
            start, size = segment.start, len(segment.buf)
            if start >= limit:
                break
            total += min(size, limit - start)
        return total

    def take(self, size: int) -> list[Piece]:
        """Remove and return the oldest `size` bytes (fewer if fewer are queued), as contiguous pieces."""
        pieces: list[Piece] = []
        while size > 0 and self._segments:
            segment = self._segments[0]
            start, buf = segment.start, segment.buf
            n = min(size, len(buf))
            pieces.append(Piece(start, bytes(buf[:n])))
            if n == len(buf):
                self._segments.popleft()
            else:
                del buf[:n]
                segment.start = start + n
            size -= n
            self._size -= n
        self._update_space()
        return pieces

    def push_front(self, pieces: list[Piece]) -> None:
        """Put back audio taken but not delivered (a packet of an abandoned service session)."""
        for piece in reversed(pieces):
            if not piece.data:
                continue
            first = self._segments[0] if self._segments else None
            if first is not None and piece.end == first.start:
                first.buf[:0] = piece.data
                first.start = piece.start
            else:
                self._segments.appendleft(_Segment(piece.start, bytearray(piece.data)))
            self._size += len(piece.data)
        self._update_space()

    def delivered(self, pieces: list[Piece]) -> None:
        """Audio taken was delivered: keep it (the newest `keep_bytes`) for a rollover to re-send."""
        for piece in pieces:
            if piece.data:
                self._kept.append(piece)
                self._kept_size += len(piece.data)
        while self._kept and self._kept_size - len(self._kept[0].data) >= self.keep_bytes:
            self._kept_size -= len(self._kept.popleft().data)

    @property
    def kept_from(self) -> int:
        """The oldest timeline position a `rewind` can go back to (`head` when nothing is kept)."""
        return self._kept[0].start if self._kept else self.head

    def rewind(self, position: int) -> int:
        """Put delivered audio from `position` on back in front of the queue, to send again; returns where
        the queue now starts (no earlier than `kept_from`; nothing moves for a position not kept)."""
        back: list[Piece] = []
        while self._kept and self._kept[-1].end > position:
            piece = self._kept.pop()
            self._kept_size -= len(piece.data)
            if piece.start < position:
                cut = position - piece.start
                cut -= cut % 2
                keep, piece = Piece(piece.start, piece.data[:cut]), Piece(piece.start + cut, piece.data[cut:])
                if keep.data:
                    self._kept.append(keep)
                    self._kept_size += len(keep.data)
            back.insert(0, piece)
        self.push_front(back)
        self._kept.clear()
        self._kept_size = 0
        return self.head

    def _drop_front(self, size: int) -> None:
        for piece in self.take(size):
            self._on_drop(piece.start, len(piece.data))

    def _update_space(self) -> None:
        if self.has_space():
            self.space.set()
        else:
            self.space.clear()

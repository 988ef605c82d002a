"""A network stream (http(s), HLS, RTMP/RTSP, anything FFmpeg reads) that reconnects when it drops."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import av

from tongchuan_tui.audio.decode import decode_pcm, open_audio
from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.threaded import ThreadedSource

logger = logging.getLogger(__name__)

DEFAULT_RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
OPENING_BYTES = 1000 * BYTES_PER_MS
"""How much of the first connection is kept to recognise a finite resource served again from its start."""
TAIL_GUARD_BYTES = 100 * BYTES_PER_MS
"""Audio at the very end of a dropped connection that may come from a damaged frame."""


def redact_url(url: str) -> str:
    """The URL without what may be a secret: user info, query, fragment, and an RTMP stream key."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    path = parts.path
    if parts.scheme.lower().startswith("rtmp") and path.count("/") >= 2:
        path = path.rsplit("/", 1)[0] + "/…"  # the last segment of an RTMP path is the stream key
    return f"{parts.scheme}://{host}{path}"


class UrlSource(ThreadedSource):
    """A stream read by PyAV with timeouts, reconnecting with backoff when it drops.

    `live` is decided at `start`: a stream without a known duration (a live event) is live; one with a
    duration (a file served over HTTP, a VOD playlist) is not, so it is read with backpressure and, after a
    drop, resumed where it stopped instead of replaying the start. Nothing is emitted during a reconnect gap.

    When a stream of unknown length ends or drops, the source reconnects; if the new connection starts with
    the same audio as the first one did, it was a finite resource (a file served without range support):
    after a clean end that is the end of the input, after a drop what was already sent is skipped.
    """

    live = True

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
        reconnect_delays: Sequence[float] = DEFAULT_RECONNECT_DELAYS,
        give_up_after_s: float = 120.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.url = url
        self.description = f"url:{redact_url(url)}"
        self.reconnects = 0
        """Successful reconnections after a drop."""
        self.duration_ms: int | None = None
        self._timeout = (open_timeout_s, read_timeout_s)
        self._delays = tuple(reconnect_delays) or DEFAULT_RECONNECT_DELAYS
        self._give_up_after_s = give_up_after_s
        self._monotonic = monotonic
        self._container: Any = None
        self._pcm: Generator[bytes, None, None] | None = None

    def _connect(self) -> None:
        self._release()
        self._container, stream = open_audio(self.url, what=self.description, timeout=self._timeout)
        self._pcm = decode_pcm(self._container, stream, what=self.description)

    def _open(self) -> None:
        try:
            self._connect()
        except AudioInputError as exc:
            raise AudioInputError(f"{exc}; check the URL and that the stream is on air") from exc
        duration = self._container.duration  # microseconds, None when unknown (live)
        self.duration_ms = None if duration is None or duration <= 0 else duration // 1000
        self.live = self.duration_ms is None

    def _finished(self, emitted: int) -> bool:
        """A normal end of a stream of known length (not a drop)."""
        if self.duration_ms is None:
            return False
        tolerance_ms = max(1000, self.duration_ms // 50)  # durations of VBR streams are estimates
        return emitted >= (self.duration_ms - tolerance_ms) * BYTES_PER_MS

    def _produce(self, pipe: PcmPipe) -> None:
        emitted = 0
        opening = bytearray()  # the start of the first connection, to recognise a replay
        first_connection = True
        while True:
            assert self._pcm is not None
            pieces: Iterator[bytes] = self._pcm
            skip = 0
            fresh = 0  # bytes this connection added
            skipped = 0  # bytes of this connection dropped as already sent
            resumed = False  # this connection replays a finite resource from its start
            try:
                if not first_connection:
                    head, pieces, replay = self._check_replay(pieces, bytes(opening))
                    # A file-like resource restarts at its beginning: skip what was already sent.
                    resumed = replay or self.duration_ms is not None
                    skip = emitted if resumed else 0
                    pieces = itertools.chain([head], pieces)
                for piece in pieces:
                    if skip:
                        cut = min(skip, len(piece))
                        skip -= cut
                        skipped += cut
                        piece = piece[cut:]
                    if not piece:
                        continue
                    if first_connection and len(opening) < OPENING_BYTES:
                        opening += piece[: OPENING_BYTES - len(opening)]
                    if not pipe.put(piece):
                        return
                    emitted += len(piece)
                    fresh += len(piece)
                if self._finished(emitted):
                    return
                reached, before = skipped + fresh, emitted - fresh  # this connection's end; where we were
                caught_up = reached >= before - TAIL_GUARD_BYTES
                if resumed and caught_up and fresh < TAIL_GUARD_BYTES:
                    # Served again from its start and ending where we had got to: that was the real end.
                    logger.info("%s: the stream is a finite one and has ended", self.description)
                    return
                logger.warning("%s: stream ended; reconnecting in case it is a drop", self.description)
            except (av.FFmpegError, OSError) as exc:
                logger.warning("%s: stream dropped (%s); reconnecting", self.description, exc)
            if first_connection:
                # The tail of a dropped connection may be a damaged frame: keep only what precedes it.
                del opening[max(0, emitted - TAIL_GUARD_BYTES) :]
            if not self._reconnect(pipe):
                return
            first_connection = False

    @staticmethod
    def _check_replay(pieces: Iterator[bytes], opening: bytes) -> tuple[bytes, Iterator[bytes], bool]:
        """Read the new connection's opening; True when it repeats `opening` (a finite resource).

        Too short an opening, or digital silence (a live stream may start silent both times), proves nothing.
        """
        head = bytearray()
        if len(opening) < TAIL_GUARD_BYTES or not any(opening):
            return bytes(head), pieces, False
        for piece in pieces:
            head += piece
            if len(head) >= len(opening):
                break
        return bytes(head), pieces, head[: len(opening)] == opening

    def _reconnect(self, pipe: PcmPipe) -> bool:
        """Reopen with backoff; False when stopped meanwhile; raises AudioInputError when giving up."""
        self._release()
        started = self._monotonic()
        attempt = 0
        while True:
            delay = self._delays[min(attempt, len(self._delays) - 1)]
            if pipe.wait_closed(delay):
                return False
            attempt += 1
            try:
                self._connect()
            except AudioInputError as exc:
                waited = self._monotonic() - started
                logger.warning("%s: reconnect attempt %d failed (%s)", self.description, attempt, exc)
                if waited >= self._give_up_after_s:
                    raise AudioInputError(
                        f"{self.description}: stream lost for {waited:.0f} s; check that it is still on air"
                    ) from exc
                continue
            self.reconnects += 1
            logger.info("%s: reconnected after %d attempt(s)", self.description, attempt)
            return True

    def _release(self) -> None:
        if self._pcm is not None:
            pcm, self._pcm = self._pcm, None
            pcm.close()
        if self._container is not None:
            container, self._container = self._container, None
            container.close()

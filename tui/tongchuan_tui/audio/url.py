"""A network stream (http(s), HLS, RTMP/RTSP, anything FFmpeg reads) that reconnects when it drops."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import av

from tongchuan_tui.audio.decode import decode_pcm, open_audio
from tongchuan_tui.audio.factory import redact_url
from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.threaded import ThreadedSource

logger = logging.getLogger(__name__)

__all__ = ["UrlSource", "redact_url"]

DEFAULT_RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
OPENING_BYTES = 1000 * BYTES_PER_MS
"""How much of the first connection is kept to recognise a finite resource served again from its start."""
TAIL_GUARD_BYTES = 100 * BYTES_PER_MS
"""Audio at the very end of a dropped connection that may come from a damaged frame."""
NO_AUDIO_WARN_S = 10.0
"""Connected but nothing decodable for this long: tell the user (the give-up comes later)."""


class UrlSource(ThreadedSource):
    """A stream read by PyAV with timeouts, reconnecting with backoff when it drops.

    `live` is decided at `start`: a stream without a known duration (a live event) is live; one with a
    duration (a file served over HTTP, a VOD playlist) is not, so it is read with backpressure and, after a
    drop, resumed where it stopped instead of replaying the start. Nothing is emitted during a reconnect gap.

    When a stream of unknown length ends or drops, the source reconnects; if the new connection starts with
    the same audio as the first one did, it was a finite resource (a file served without range support):
    after a clean end that is the end of the input, after a drop what was already sent is skipped.

    Progress is new audio, not a successful connection: the backoff grows across reconnects that bring
    nothing new (a file that drops at the same point every time) and is reset only by fresh audio, and the
    input fails (AudioInputError, exit 4) once `give_up_after_s` pass without any — whether the stream is
    down, keeps dropping, or serves data that does not decode as audio. Each reconnect, a long stretch of
    undecodable data and the return of audio are reported through `on_warning` as well as the log.
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
        self._attempt = 0  # reconnect attempts since audio last flowed (the backoff step)
        self._last_audio = 0.0  # monotonic time of the last fresh audio (or of the first connection)
        self._outage: float | None = None  # when the current drop began, while reconnecting
        self._undecodable_warned = False

    def _connect(self) -> None:
        self._release()
        self._container, stream = open_audio(self.url, what=self.description, timeout=self._timeout)
        self._pcm = self._watched(decode_pcm(self._container, stream, what=self.description, heartbeat=True))

    def _watched(self, pieces: Iterator[bytes]) -> Generator[bytes, None, None]:
        """The decoded pieces without heartbeats; gives up when data flows but no audio comes of it."""
        for piece in pieces:
            if piece:
                yield piece
                continue
            silent_for = self._monotonic() - self._last_audio
            if silent_for >= self._give_up_after_s:
                raise AudioInputError(
                    f"{self.description}: no decodable audio for {silent_for:.0f} s; "
                    "check that the URL is an audio stream"
                )
            if silent_for >= min(NO_AUDIO_WARN_S, self._give_up_after_s / 2) and not self._undecodable_warned:
                self._undecodable_warned = True
                self._warn(
                    f"{self.description}: receiving data but no decodable audio for {silent_for:.0f} s; "
                    f"is it an audio stream? (giving up after {self._give_up_after_s:g} s)"
                )

    def _fresh_audio(self) -> None:
        """New audio went out: the stream is healthy again."""
        self._last_audio = self._monotonic()
        self._attempt = 0
        self._undecodable_warned = False
        if self._outage is not None:
            gap = self._last_audio - self._outage
            self._outage = None
            self._warn(f"{self.description}: audio is flowing again after {gap:.0f} s")

    def _open(self) -> None:
        try:
            self._connect()
        except AudioInputError as exc:
            raise AudioInputError(f"{exc}; check the URL and that the stream is on air") from exc
        duration = self._container.duration  # microseconds, None when unknown (live)
        self.duration_ms = None if duration is None or duration <= 0 else duration // 1000
        self.live = self.duration_ms is None
        self._last_audio = self._monotonic()

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
                    self._fresh_audio()
                if self._finished(emitted):
                    return
                reached, before = skipped + fresh, emitted - fresh  # this connection's end; where we were
                caught_up = reached >= before - TAIL_GUARD_BYTES
                if resumed and caught_up and fresh < TAIL_GUARD_BYTES:
                    # Served again from its start and ending where we had got to: that was the real end.
                    logger.info("%s: the stream is a finite one and has ended", self.description)
                    return
                why = "the stream ended (a drop?)"
            except (av.FFmpegError, OSError) as exc:
                why = f"the stream dropped ({_short(exc)})"
            if first_connection:
                # The tail of a dropped connection may be a damaged frame: keep only what precedes it.
                del opening[max(0, emitted - TAIL_GUARD_BYTES) :]
            if not self._reconnect(pipe, why):
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

    def _reconnect(self, pipe: PcmPipe, why: str) -> bool:
        """Reopen with backoff; False when stopped meanwhile; raises AudioInputError when giving up.

        The backoff step carries over from earlier reconnects until fresh audio resets it, and the give-up
        is counted from the last fresh audio, so a connection that opens but brings nothing new is no
        reason to start again at the shortest delay.
        """
        self._release()
        if self._outage is None:
            self._outage = self._monotonic()
        while True:
            silent_for = self._monotonic() - self._last_audio
            left = self._give_up_after_s - silent_for
            if left <= 0:
                raise AudioInputError(
                    f"{self.description}: no new audio for {silent_for:.0f} s ({why}, "
                    f"{self._attempt} reconnect attempts); check that the stream is on air"
                )
            delay = min(self._delays[min(self._attempt, len(self._delays) - 1)], left)
            self._attempt += 1
            self._warn(
                f"{self.description}: {why}; reconnecting in {delay:.1f} s (attempt {self._attempt}, "
                f"giving up after {self._give_up_after_s:g} s without audio)"
            )
            if pipe.wait_closed(delay):
                return False
            try:
                self._connect()
            except AudioInputError as exc:
                why = f"reconnecting failed ({_short(exc)})"
                continue
            self.reconnects += 1
            logger.info("%s: reconnected (attempt %d)", self.description, self._attempt)
            return True

    def _release(self) -> None:
        if self._pcm is not None:
            pcm, self._pcm = self._pcm, None
            pcm.close()
        if self._container is not None:
            container, self._container = self._container, None
            container.close()


def _short(exc: BaseException) -> str:
    """An error's text without the URL FFmpeg repeats in it (it may hold a token), on one line."""
    text = str(getattr(exc, "strerror", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split(": 'http")[0].split(": 'rtmp")[0].split(": 'rtsp")[0].rstrip(".")

"""Energy-based speech segmentation for answers without a cue script: honest placeholders, no recognition."""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass

from tongchuan_tui.emulator.sentences import Draft
from tongchuan_tui.emulator.wire import BYTES_PER_MS


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    """Tuning: a frame is speech when its RMS (int16 scale) reaches `threshold_rms`; speech ends after
    `hangover_ms` of quiet frames; a burst shorter than `min_speech_ms` is never reported."""

    frame_ms: int = 20
    threshold_rms: float = 500.0
    hangover_ms: int = 400
    min_speech_ms: int = 100


@dataclass(slots=True)
class Segment:
    """A stretch of speech; times in ms of the audio fed."""

    start_ms: int
    end_ms: int
    final: bool = False


def frame_rms(frame: bytes) -> float:
    """Root mean square of 16-bit little-endian samples."""
    samples = array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def placeholder(language: str, number: int, seconds: float) -> str:
    """The text standing in for a recognised sentence: "[speech 1: 2.4 s]" or "[语音 1: 2.4 秒]"."""
    if language in ("zh", "yue"):
        return f"[语音 {number}: {seconds:.1f} 秒]"
    return f"[speech {number}: {seconds:.1f} s]"


class Segmenter:
    """Splits a stream of PCM into speech segments by frame energy, with a hangover to bridge short pauses."""

    def __init__(self, config: SegmenterConfig | None = None) -> None:
        self.config = config or SegmenterConfig()
        self._frame_bytes = self.config.frame_ms * BYTES_PER_MS
        self._pending = b""
        self._position_ms = 0
        self._open: Segment | None = None
        self._quiet_ms = 0
        self.segments: list[Segment] = []
        """Segments long enough to report, oldest first; the last may still be open (not final)."""

    @property
    def position_ms(self) -> int:
        """Milliseconds of audio analysed so far."""
        return self._position_ms

    def feed(self, pcm: bytes) -> None:
        """Analyse more audio, whole frames at a time (a partial frame waits for the next packet)."""
        data = self._pending + pcm
        usable = len(data) - len(data) % self._frame_bytes
        for offset in range(0, usable, self._frame_bytes):
            self._frame(frame_rms(data[offset : offset + self._frame_bytes]) >= self.config.threshold_rms)
        self._pending = data[usable:]

    def finish(self) -> None:
        """End of the stream: an open segment becomes final (or is forgotten if too short to report)."""
        if self._open is not None:
            self._close()

    def _frame(self, voiced: bool) -> None:
        start = self._position_ms
        self._position_ms += self.config.frame_ms
        if self._open is None:
            if voiced:
                self._open = Segment(start, self._position_ms)
                self._quiet_ms = 0
                self._maybe_report()
            return
        if voiced:
            self._open.end_ms = self._position_ms
            self._quiet_ms = 0
            self._maybe_report()
        else:
            self._quiet_ms += self.config.frame_ms
            if self._quiet_ms >= self.config.hangover_ms:
                self._close()

    def _maybe_report(self) -> None:
        segment = self._open
        if segment is None or (self.segments and self.segments[-1] is segment):
            return
        if segment.end_ms - segment.start_ms >= self.config.min_speech_ms:
            self.segments.append(segment)

    def _close(self) -> None:
        assert self._open is not None
        self._open.final = True
        self._open = None
        self._quiet_ms = 0

    def drafts(self, source: str, target: str, *, translate_time: int) -> list[Draft]:
        """The reported segments as placeholder sentences, TargetText following TranslateTime."""
        out = []
        for number, seg in enumerate(self.segments, start=1):
            seconds = (seg.end_ms - seg.start_ms) / 1000
            show_target = translate_time == 2 or (translate_time == 1 and seg.final)
            out.append(
                Draft(
                    start_ms=seg.start_ms,
                    end_ms=seg.end_ms,
                    source_text=placeholder(source, number, seconds),
                    target_text=placeholder(target, number, seconds) if show_target else "",
                    final=seg.final,
                )
            )
        return out

"""Input level events: one `LevelMeasured` per 100 ms of audio, with how long the input has been silent."""

from __future__ import annotations

from tongchuan_tui.audio.format import BYTES_PER_MS
from tongchuan_tui.audio.levels import measure_level
from tongchuan_tui.pipeline.events import LevelMeasured

WINDOW_MS = 100
SILENCE_DBFS = -50.0
"""Below this RMS level a window counts as silence (room noise of a quiet mic is around -60 dBFS)."""


class LevelMeter:
    """Cuts PCM into 100 ms windows and measures each."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._silent_ms = 0

    def feed(self, pcm: bytes) -> list[LevelMeasured]:
        """Add audio; returns a measurement per whole window completed."""
        self._pending += pcm
        size = WINDOW_MS * BYTES_PER_MS
        out: list[LevelMeasured] = []
        while len(self._pending) >= size:
            window = bytes(self._pending[:size])
            del self._pending[:size]
            level = measure_level(window)
            self._silent_ms = self._silent_ms + WINDOW_MS if level.rms_dbfs < SILENCE_DBFS else 0
            out.append(
                LevelMeasured(
                    dbfs=round(level.rms_dbfs, 1),
                    peak_dbfs=round(level.peak_dbfs, 1),
                    clipped=level.clipped,
                    silent_for_ms=self._silent_ms,
                )
            )
        return out

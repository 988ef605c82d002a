"""Conversion of decoded or captured audio to the service's format (16 kHz mono s16le) with PyAV."""

from __future__ import annotations

import logging
from typing import Any

import av

from tongchuan_tui.audio.format import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

logger = logging.getLogger(__name__)

_LAYOUTS = {1: "mono", 2: "stereo"}


def layout_for(channels: int) -> str:
    """The PyAV layout name for a plain count of interleaved channels."""
    return _LAYOUTS.get(channels, f"{channels}c")


def _pcm(frame: Any) -> bytes:
    # A plane may be padded for alignment: keep only the samples.
    return bytes(frame.planes[0])[: frame.samples * SAMPLE_WIDTH * CHANNELS]


class ToServiceFormat:
    """Resamples and downmixes any PyAV audio frames to 16 kHz mono s16le bytes.

    A change of input rate or layout mid-stream (a new connection, an HLS variant switch) starts a fresh
    resampler after flushing the old one.
    """

    def __init__(self) -> None:
        self._resampler: Any = None
        self._input: tuple[int, str, str] | None = None

    def frame(self, frame: Any) -> bytes:
        """The PCM for one decoded frame (may be empty while the resampler fills its filter)."""
        shape = (frame.sample_rate, frame.layout.name, frame.format.name)
        flushed = b""
        if self._resampler is None or shape != self._input:
            if self._resampler is not None:
                logger.debug("audio format changed to %s: new resampler", shape)
                flushed = self.flush()
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            self._input = shape
        # Decoder timestamps are irrelevant here, and a jump in them (after a reconnect) upsets the filter.
        frame.pts = None
        return flushed + b"".join(_pcm(out) for out in self._resampler.resample(frame))

    def pcm(self, data: bytes, rate: int, channels: int) -> bytes:
        """The PCM for interleaved s16le `data` captured at `rate` with `channels`."""
        if rate == SAMPLE_RATE and channels == CHANNELS:
            return data
        samples = len(data) // (SAMPLE_WIDTH * channels)
        if samples == 0:
            return b""
        frame = av.AudioFrame(format="s16", layout=layout_for(channels), samples=samples)
        frame.planes[0].update(data[: samples * SAMPLE_WIDTH * channels])
        frame.sample_rate = rate
        return self.frame(frame)

    def flush(self) -> bytes:
        """What the resampler still holds, at the end of the input."""
        if self._resampler is None:
            return b""
        resampler, self._resampler, self._input = self._resampler, None, None
        return b"".join(_pcm(out) for out in resampler.resample(None))

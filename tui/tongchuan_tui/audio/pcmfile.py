"""s16le mono PCM written to a WAV or FLAC file as it comes (the audio recording and the voice track).

WAV is written with the stdlib `wave` module and its header is rewritten after every write, so a killed
process leaves a valid WAV of everything written (at most the write under way is lost).
FLAC is encoded with PyAV; a killed process leaves a FLAC whose stream header lacks the total length (most
players and decoders still play every complete frame, but the duration shows as unknown).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any, Protocol

from tongchuan_tui.audio.format import SAMPLE_WIDTH

SUFFIXES = (".wav", ".flac")
"""The file name endings `open_pcm_file` writes."""


class PcmFile(Protocol):
    """A file taking PCM until it is closed."""

    def write(self, pcm: bytes) -> None: ...

    def close(self) -> None: ...


class WavFile:
    """A WAV file that is valid after every write."""

    def __init__(self, path: Path, rate: int) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - kept open for the whole file; closed in close()
        self._wave = wave.open(self._file, "wb")  # noqa: SIM115 - likewise
        self._wave.setnchannels(1)
        self._wave.setsampwidth(SAMPLE_WIDTH)
        self._wave.setframerate(rate)
        self._wave.writeframes(b"")  # writes the header now, so even an empty file is a valid WAV

    def write(self, pcm: bytes) -> None:
        # writeframes() rewrites the header's sizes after each call, keeping the file valid at all times.
        self._wave.writeframes(pcm)
        self._file.flush()

    def close(self) -> None:
        try:
            self._wave.close()
        finally:
            self._file.close()


class FlacFile:
    """A FLAC file encoded by PyAV (a trailing odd byte of a write is dropped)."""

    def __init__(self, path: Path, rate: int) -> None:
        import av  # only FLAC needs PyAV's encoder

        self._av: Any = av
        self._rate = rate
        self._container: Any = av.open(str(path), mode="w", format="flac")
        stream: Any = self._container.add_stream("flac", rate=rate)
        stream.layout = "mono"
        stream.format = "s16"
        self._stream = stream
        self._pts = 0

    def write(self, pcm: bytes) -> None:
        samples = len(pcm) // SAMPLE_WIDTH
        if samples == 0:
            return
        frame = self._av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(pcm[: samples * SAMPLE_WIDTH])
        frame.sample_rate = self._rate
        frame.pts = self._pts
        self._pts += samples
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()


def open_pcm_file(path: Path, rate: int) -> PcmFile:
    """A new WAV or FLAC file (by `path`'s suffix, one of SUFFIXES) at `rate` Hz, its folder made if missing.

    Raises ValueError for another suffix, OSError (PyAV's errors are OSError too) when it cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: use a .wav or .flac file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    return WavFile(path, rate) if suffix == ".wav" else FlacFile(path, rate)

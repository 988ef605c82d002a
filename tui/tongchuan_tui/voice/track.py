"""The voice track as a continuous stream: silence between sentences, written to a file or to stdout.

`--voice-out FILE.wav` keeps the WAV header right after every write (as `--record-audio` does), so the file
is a valid WAV of everything written at every moment; `.flac` is encoded by PyAV (a killed process leaves
a FLAC without its total length); `-` writes raw s16le mono PCM to stdout for piping into a streaming tool.
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from tongchuan_tui.voice import VoiceError

SAMPLE_WIDTH = 2
SUFFIXES = (".wav", ".flac")


class PcmOut(Protocol):
    """Where track PCM goes."""

    def write(self, pcm: bytes) -> None: ...

    def close(self) -> None: ...


class _Wav:
    def __init__(self, path: Path, rate: int) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - open for the whole track; closed in close()
        self._wave = wave.open(self._file, "wb")  # noqa: SIM115 - likewise
        self._wave.setnchannels(1)
        self._wave.setsampwidth(SAMPLE_WIDTH)
        self._wave.setframerate(rate)
        self._wave.writeframes(b"")  # the header now: an empty track is a valid WAV too

    def write(self, pcm: bytes) -> None:
        # writeframes() patches the header's sizes after each call: the file stays valid.
        self._wave.writeframes(pcm)
        self._file.flush()

    def close(self) -> None:
        try:
            self._wave.close()
        finally:
            self._file.close()


class _Flac:
    def __init__(self, path: Path, rate: int) -> None:
        import av

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


class _Stream:
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def write(self, pcm: bytes) -> None:
        self._stream.write(pcm)
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


def check_track_path(target: str) -> None:
    """Raise VoiceError (one line) if `target` is neither `-` nor a .wav/.flac path."""
    if target != "-" and Path(target).suffix.lower() not in SUFFIXES:
        raise VoiceError(f"--voice-out {target}: use a .wav or .flac file name, or - for raw PCM on stdout")


def open_track(target: str, rate: int, stdout: BinaryIO | None = None) -> PcmOut:
    """The output for `--voice-out TARGET`, created now; raises VoiceError with one line."""
    check_track_path(target)
    if target == "-":
        return _Stream(stdout if stdout is not None else sys.stdout.buffer)
    path = Path(target).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _Wav(path, rate) if path.suffix.lower() == ".wav" else _Flac(path, rate)
    except Exception as exc:  # OSError, or PyAV's errors
        reason = getattr(exc, "strerror", None) or str(exc)
        raise VoiceError(f"--voice-out {target}: cannot be written ({reason})") from None


class TrackWriter:
    """Lays sentences on a continuous track at given positions (ms), filling the gaps with silence."""

    def __init__(self, out: PcmOut, rate: int) -> None:
        self._out = out
        self.rate = rate
        self.samples = 0
        """Samples written so far."""

    @property
    def position_ms(self) -> int:
        """Where the track ends now."""
        return self.samples * 1000 // self.rate

    def silence_to(self, ms: int) -> None:
        """Extend the track with silence up to `ms` (nothing if it is already that long)."""
        wanted = ms * self.rate // 1000
        if wanted > self.samples:
            self._write(bytes((wanted - self.samples) * SAMPLE_WIDTH))

    def put(self, start_ms: int, pcm: bytes) -> None:
        """Silence up to `start_ms`, then `pcm` (never earlier than where the track already ends)."""
        self.silence_to(start_ms)
        self._write(pcm[: len(pcm) // SAMPLE_WIDTH * SAMPLE_WIDTH])

    def close(self) -> None:
        """Finish the output (final header, encoder flush)."""
        self._out.close()

    def _write(self, pcm: bytes) -> None:
        if pcm:
            self._out.write(pcm)
            self.samples += len(pcm) // SAMPLE_WIDTH

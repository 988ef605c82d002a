"""The voice track as a continuous stream: silence between sentences, written to a file or to stdout.

`--voice-out FILE.wav` keeps the WAV header right after every write (as `--record-audio` does), so the file
is a valid WAV of everything written at every moment; `.flac` is encoded by PyAV (a killed process leaves
a FLAC without its total length); `-` writes raw s16le mono PCM to stdout for piping into a streaming tool.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

from tongchuan_tui.audio.format import SAMPLE_WIDTH
from tongchuan_tui.audio.pcmfile import SUFFIXES, PcmFile, open_pcm_file
from tongchuan_tui.voice import VoiceError


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


def open_track(target: str, rate: int, stdout: BinaryIO | None = None) -> PcmFile:
    """The output for `--voice-out TARGET`, created now; raises VoiceError with one line."""
    check_track_path(target)
    if target == "-":
        return _Stream(stdout if stdout is not None else sys.stdout.buffer)
    path = Path(target).expanduser()
    try:
        return open_pcm_file(path, rate)
    except Exception as exc:  # OSError, or PyAV's errors
        reason = getattr(exc, "strerror", None) or str(exc)
        raise VoiceError(f"--voice-out {target}: cannot be written ({reason})") from None


class TrackWriter:
    """Lays sentences on a continuous track at given positions (ms), filling the gaps with silence."""

    def __init__(self, out: PcmFile, rate: int) -> None:
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

"""Records exactly the audio that was sent (`--record-audio PATH`): WAV or FLAC, chosen by the file extension.

WAV is written with the stdlib `wave` module and its header is rewritten after every packet, so a killed
process leaves a valid WAV holding every packet written (at most the packet being written is lost).
FLAC is encoded with PyAV; a killed process leaves a FLAC whose stream header lacks the total length (most
players and decoders still play every complete frame, but the duration shows as unknown) — prefer WAV when
the recording must survive a crash intact.
A recording that cannot be written is reported once through `on_error` and recording stops; the session
goes on.
"""

from __future__ import annotations

import logging
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tongchuan_tui.audio.format import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

SUFFIXES = (".wav", ".flac")


class RecordingError(Exception):
    """A recording cannot be started (unsupported extension, unwritable path); the message is one line."""


class _Wav:
    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - kept open for the recording; closed in close()
        self._wave = wave.open(self._file, "wb")  # noqa: SIM115 - likewise
        self._wave.setnchannels(CHANNELS)
        self._wave.setsampwidth(SAMPLE_WIDTH)
        self._wave.setframerate(SAMPLE_RATE)
        self._wave.writeframes(b"")  # writes the header now, so even an empty recording is a valid WAV

    def write(self, pcm: bytes) -> None:
        # writeframes() rewrites the header's sizes after each call, keeping the file valid at all times.
        self._wave.writeframes(pcm)
        self._file.flush()

    def close(self) -> None:
        try:
            self._wave.close()
        finally:
            self._file.close()


class _Flac:
    def __init__(self, path: Path) -> None:
        import av  # only FLAC needs PyAV's encoder

        self._av: Any = av
        self._container: Any = av.open(str(path), mode="w", format="flac")
        stream: Any = self._container.add_stream("flac", rate=SAMPLE_RATE)
        stream.layout = "mono"
        stream.format = "s16"
        self._stream = stream
        self._pts = 0

    def write(self, pcm: bytes) -> None:
        samples = len(pcm) // (SAMPLE_WIDTH * CHANNELS)
        if samples == 0:
            return
        frame = self._av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(pcm[: samples * SAMPLE_WIDTH * CHANNELS])
        frame.sample_rate = SAMPLE_RATE
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


class AudioRecorder:
    """A callable taking each sent packet's PCM (16 kHz s16le mono), as the session's `audio_tap`."""

    def __init__(self, path: Path, *, on_error: Callable[[str], None] | None = None) -> None:
        """Create the file now; raises RecordingError for a suffix not .wav/.flac or an unwritable path."""
        self.path = Path(path)
        self._on_error = on_error
        suffix = self.path.suffix.lower()
        if suffix not in SUFFIXES:
            raise RecordingError(f"cannot record audio to {self.path}: use a .wav or .flac file name")
        self.bytes_written = 0
        self._failed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out: _Wav | _Flac | None = _Wav(self.path) if suffix == ".wav" else _Flac(self.path)
        except Exception as exc:  # OSError, or PyAV's own errors (which are OSError subclasses too)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise RecordingError(f"cannot record audio to {self.path}: {reason}") from None

    @property
    def failed(self) -> bool:
        """Whether recording stopped on an error (what came after was not saved)."""
        return self._failed

    def __call__(self, pcm: bytes) -> None:
        """Append one packet; never raises (a failure is reported once and recording stops)."""
        if self._out is None or self._failed:
            return
        try:
            self._out.write(pcm)
            self.bytes_written += len(pcm)
        except Exception as exc:
            self._fail(exc)

    def close(self) -> None:
        """Finish the file (final WAV header / FLAC stream info). Idempotent."""
        out, self._out = self._out, None
        if out is None:
            return
        try:
            out.close()
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        log.exception("audio recording to %s failed", self.path)
        if self._failed:
            return
        self._failed = True
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        message = f"audio recording {self.path} stopped: {reason}; interpretation goes on"
        if self._on_error is not None:
            try:
                self._on_error(message)
            except Exception:
                log.exception("recorder on_error callback failed")

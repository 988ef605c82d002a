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
from collections.abc import Callable
from pathlib import Path

from tongchuan_tui.audio.format import SAMPLE_RATE
from tongchuan_tui.audio.pcmfile import SUFFIXES, PcmFile, open_pcm_file

log = logging.getLogger(__name__)


class RecordingError(Exception):
    """A recording cannot be started (unsupported extension, unwritable path); the message is one line."""


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
            self._out: PcmFile | None = open_pcm_file(self.path, SAMPLE_RATE)
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

"""An audio or video file of any common format, decoded and resampled by PyAV in a worker thread."""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

import av

from tongchuan_tui.audio.decode import decode_pcm, open_audio
from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.threaded import ThreadedSource

logger = logging.getLogger(__name__)


class FileSource(ThreadedSource):
    """A file read as fast as the consumer takes it (backpressure); `loop=True` repeats it (for demos)."""

    live = False

    def __init__(self, path: str | Path, *, loop: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.description = f"file:{self.path.name}"
        self.passes = 0
        """Completed passes over the file (counts repeats when looping)."""
        self._container: Any = None
        self._pcm: Generator[bytes, None, None] | None = None
        self._first: bytes = b""

    def _open(self) -> None:
        what = str(self.path)
        if not self.path.exists():
            raise AudioInputError(f"{what}: no such file; check the path given to --input")
        if self.path.is_dir():
            raise AudioInputError(f"{what}: is a directory; give an audio file to --input")
        try:
            with self.path.open("rb"):
                pass
        except OSError as exc:
            raise AudioInputError(
                f"{what}: cannot be opened ({exc.strerror}); check its permissions"
            ) from exc
        self._open_pass()
        # Decode up to the first audio so a file that only looks like audio fails now, not mid-session.
        assert self._pcm is not None
        try:
            self._first = next(self._pcm, b"")
        except (av.FFmpegError, OSError) as exc:
            raise AudioInputError(f"{what}: cannot be decoded as audio ({exc})") from exc
        if not self._first:
            raise AudioInputError(f"{what}: contains no decodable audio")

    def _open_pass(self) -> None:
        self._release()
        what = str(self.path)
        self._container, stream = open_audio(what, what=what)
        self._pcm = decode_pcm(self._container, stream, what=what)

    def _produce(self, pipe: PcmPipe) -> None:
        if self._first and not pipe.put(self._first):
            return
        self._first = b""
        while True:
            assert self._pcm is not None
            try:
                for piece in self._pcm:
                    if not pipe.put(piece):
                        return
            except (av.FFmpegError, OSError) as exc:
                # Truncated or damaged: what was decoded is still worth interpreting.
                logger.warning("%s: stopped reading at a damaged part (%s)", self.path, exc)
            self.passes += 1
            if not self.loop or pipe.closed:
                return
            self._open_pass()

    def _release(self) -> None:
        if self._pcm is not None:
            pcm, self._pcm = self._pcm, None
            pcm.close()
        if self._container is not None:
            container, self._container = self._container, None
            container.close()

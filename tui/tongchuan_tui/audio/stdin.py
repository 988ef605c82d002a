"""Raw 16 kHz mono s16le PCM piped in on stdin (`arecord … | ssh host tongchuan-tui --input -`)."""

from __future__ import annotations

import logging
import sys
from typing import IO

from tongchuan_tui.audio.format import SAMPLE_WIDTH, ms_to_bytes
from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.threaded import ThreadedSource

logger = logging.getLogger(__name__)

PIPE_HINT = "arecord -f S16_LE -r 16000 -c 1 -t raw | tongchuan-tui --input -"


class StdinSource(ThreadedSource):
    """Raw PCM from a binary stream (default: stdin), read in a worker thread as it arrives.

    Not live: a pipe blocks its writer when we read slowly, so nothing is lost. An odd trailing byte (half a
    sample) at the end of the stream is dropped.
    """

    live = False

    def __init__(self, stream: IO[bytes] | None = None, *, read_ms: int = 100) -> None:
        super().__init__()
        self.description = "stdin"
        self._stream = stream
        self._read_size = ms_to_bytes(read_ms)
        self.bytes_read = 0

    def _open(self) -> None:
        if self._stream is None:
            self._stream = sys.stdin.buffer
        try:
            is_tty = self._stream.isatty()
        except ValueError as exc:  # closed
            raise AudioInputError("stdin is closed; pipe raw audio in: " + PIPE_HINT) from exc
        if is_tty:
            raise AudioInputError(
                "stdin is a terminal, not audio; pipe raw 16 kHz mono s16le in, e.g. " + PIPE_HINT
            )

    def _produce(self, pipe: PcmPipe) -> None:
        assert self._stream is not None
        # read1 returns what is available (one raw read), so audio flows as it arrives, not per full buffer.
        read = getattr(self._stream, "read1", self._stream.read)
        carry = b""
        while not pipe.closed:
            try:
                chunk = read(self._read_size)
            except OSError as exc:
                raise AudioInputError(f"stdin: read failed ({exc.strerror or exc})") from exc
            if not chunk:
                break
            self.bytes_read += len(chunk)
            data = carry + chunk
            whole = len(data) - len(data) % SAMPLE_WIDTH
            carry = data[whole:]
            if whole and not pipe.put(data[:whole]):
                return
        if carry:
            logger.warning("stdin ended with half a sample (an odd byte); dropped it")

    def _release(self) -> None:
        # stdin belongs to the process; it is not ours to close.
        pass

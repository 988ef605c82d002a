"""Raw 16 kHz mono s16le PCM piped in on stdin (`arecord … | ssh host tongchuan-tui --input -`)."""

from __future__ import annotations

import logging
import struct
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
    sample) at the end of the stream is dropped. A WAV header (what `arecord` writes unless given `-t raw`)
    is recognised and skipped when it describes 16 kHz mono 16-bit PCM, and refused otherwise.
    """

    live = False
    join_timeout_s = 0.2  # a read blocked on an idle pipe cannot be interrupted; the daemon worker is left

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
        header_done = False
        while not pipe.closed:
            try:
                chunk = read(self._read_size)
            except OSError as exc:
                raise AudioInputError(f"stdin: read failed ({exc.strerror or exc})") from exc
            if not chunk:
                break
            self.bytes_read += len(chunk)
            data = carry + chunk
            if not header_done:
                rest = strip_wav_header(data)
                if rest is None:  # a WAV header still arriving
                    carry = data
                    continue
                header_done = True
                data = rest
            whole = len(data) - len(data) % SAMPLE_WIDTH
            carry = data[whole:]
            if whole and not pipe.put(data[:whole]):
                return
        if not header_done and len(carry) >= SAMPLE_WIDTH:
            # Under 12 bytes in all: too short to be a header, so it is (a few samples of) PCM.
            whole = len(carry) - len(carry) % SAMPLE_WIDTH
            pipe.put(carry[:whole])
            carry = carry[whole:]
        if carry:
            logger.warning("stdin ended with half a sample (an odd byte); dropped it")

    def _release(self) -> None:
        # stdin belongs to the process; it is not ours to close.
        pass


MAX_WAV_HEADER = 64 * 1024


def strip_wav_header(data: bytes) -> bytes | None:
    """`data` without a leading WAV header; None while the header is incomplete; raw PCM is returned as is.

    Raises AudioInputError when the header describes anything but 16 kHz mono 16-bit PCM.
    """
    if len(data) < 12:
        return None if b"RIFF".startswith(data[:4]) else data
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    position = 12
    format_ok = False
    while True:
        if len(data) > MAX_WAV_HEADER and position > MAX_WAV_HEADER:
            raise AudioInputError("stdin: a WAV header with no audio data; send raw PCM: " + PIPE_HINT)
        if len(data) < position + 8:
            return None
        kind, size = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], "little"),
        )
        body = position + 8
        if kind == b"data":
            if not format_ok:
                raise AudioInputError("stdin: a WAV without a format chunk; send raw PCM: " + PIPE_HINT)
            return data[body:]
        if len(data) < body + size:
            return None
        if kind == b"fmt ":
            tag, channels, rate = struct.unpack_from("<HHI", data, body)
            bits = struct.unpack_from("<H", data, body + 14)[0]
            if (tag, channels, rate, bits) not in ((1, 1, 16_000, 16), (0xFFFE, 1, 16_000, 16)):
                raise AudioInputError(
                    f"stdin: WAV of {rate} Hz, {channels} channel(s), {bits}-bit; "
                    f"the service needs 16 kHz mono 16-bit: {PIPE_HINT}"
                )
            format_ok = True
        position = body + size + (size & 1)  # chunks are word-aligned

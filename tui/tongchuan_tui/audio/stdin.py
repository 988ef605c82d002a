"""Raw 16 kHz mono s16le PCM piped in on stdin (`arecord … | ssh host tongchuan-tui --input -`)."""

from __future__ import annotations

import logging
import os
import select
import stat
import struct
import sys
from typing import IO

from tongchuan_tui.audio.format import SAMPLE_WIDTH, ms_to_bytes
from tongchuan_tui.audio.pipe import PcmPipe
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.threaded import ThreadedSource

logger = logging.getLogger(__name__)

PIPE_HINT = "arecord -f S16_LE -r 16000 -c 1 -t raw | tongchuan-tui --input -"
POLL_S = 0.1
"""How often the reader looks up from an idle pipe to see whether it should stop."""


class StdinSource(ThreadedSource):
    """Raw PCM from a binary stream (default: stdin), read in a worker thread as it arrives.

    Live unless stdin is a regular file (`< talk.raw`): a pipe (`arecord … |`) or socket delivers audio as
    it is spoken, so when the service is slow it is dropped past the backlog bound like a microphone's,
    rather than falling behind without limit. `live` given explicitly (`--stdin-live/--no-stdin-live`) wins.

    The descriptor is read with `os.read` after `select` says it is readable, never through Python's
    buffered `sys.stdin.buffer`: a thread blocked inside a buffered read holds that object's lock, and the
    interpreter aborts at exit when it finds it held (SIGINT while stdin is idle). Polling also lets the
    worker notice `stop` and end instead of being abandoned in a read.

    An odd trailing byte (half a sample) at the end of the stream is dropped. A WAV header (what `arecord`
    writes unless given `-t raw`) is recognised and skipped when it describes 16 kHz mono 16-bit PCM, and
    refused otherwise.
    """

    def __init__(
        self, stream: IO[bytes] | None = None, *, read_ms: int = 100, live: bool | None = None
    ) -> None:
        super().__init__()
        self.description = "stdin"
        self._stream = stream
        self._fd = -1
        self._read_size = ms_to_bytes(read_ms)
        self._live_override = live
        # Until `start` looks at it, assume the usual case: a pipe from a recorder.
        self.live = True if live is None else live
        self.bytes_read = 0

    def _open(self) -> None:
        stream = self._stream if self._stream is not None else sys.stdin
        if stream is None:  # the process was started with stdin closed (`<&-`)
            raise AudioInputError("stdin is closed; pipe raw audio in, e.g. " + PIPE_HINT)
        try:
            self._fd = stream.fileno()
            mode = os.fstat(self._fd).st_mode
            is_tty = os.isatty(self._fd)
        except (OSError, ValueError) as exc:  # closed, or not backed by a descriptor
            raise AudioInputError("stdin is closed; pipe raw audio in, e.g. " + PIPE_HINT) from exc
        if is_tty:
            raise AudioInputError(
                "stdin is a terminal, not audio; pipe raw 16 kHz mono s16le in, e.g. " + PIPE_HINT
            )
        if self._live_override is None:
            self.live = not stat.S_ISREG(mode)

    def _read(self, pipe: PcmPipe) -> bytes | None:
        """The next bytes available (b"" at the end of the input); None once the pipe is closed."""
        while not pipe.closed:
            try:
                ready, _, _ = select.select([self._fd], [], [], POLL_S)
                if ready:
                    return os.read(self._fd, self._read_size)
            except OSError as exc:
                raise AudioInputError(f"stdin: read failed ({exc.strerror or exc})") from exc
        return None

    def _produce(self, pipe: PcmPipe) -> None:
        carry = b""
        header_done = False
        while True:
            chunk = self._read(pipe)
            if chunk is None:
                return
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

"""What every audio input provides: 16 kHz mono s16le PCM as an async stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class AudioInputError(Exception):
    """An input that cannot be used (missing file, not audio, unreachable URL, no such device, busy).

    `str(error)` is one line saying what is wrong and what to do.
    """


class AudioSource(Protocol):
    """A source of PCM. `live` sources (mic, URL) cannot be slowed down, so backlog beyond a bound is
    dropped; non-live ones (file, stdin) are read only as fast as the consumer takes them."""

    description: str
    """For journals and headers, e.g. `file:talk.mp3`, `mic:USB Audio`, `stdin`, `url:https://…`."""
    live: bool

    async def start(self) -> None:
        """Open the input; raises AudioInputError when it cannot be used."""
        ...

    def frames(self) -> AsyncIterator[bytes]:
        """PCM in arbitrary-sized pieces (whole samples), until the input ends or `stop` is called."""
        ...

    async def stop(self) -> None:
        """Stop and release the input (idempotent); a pending `frames` iteration then ends."""
        ...

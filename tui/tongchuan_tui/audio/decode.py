"""Opening a container with PyAV and pulling its first audio stream as service-format PCM."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import av

from tongchuan_tui.audio.resample import ToServiceFormat
from tongchuan_tui.audio.source import AudioInputError

logger = logging.getLogger(__name__)


def open_audio(target: str, *, what: str, timeout: tuple[float, float] | None = None) -> tuple[Any, Any]:
    """Open `target` (a path or URL) and pick its first audio stream; raises AudioInputError naming `what`."""
    try:
        container = av.open(target, mode="r", timeout=timeout, metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise AudioInputError(f"{what}: cannot be read as audio ({_reason(exc)})") from exc
    if not container.streams.audio:
        container.close()
        raise AudioInputError(f"{what}: has no audio stream; give an audio or video file with sound")
    return container, container.streams.audio[0]


def _reason(exc: av.FFmpegError) -> str:
    return str(getattr(exc, "strerror", None) or exc).rstrip(".")


def decode_pcm(
    container: Any, stream: Any, *, what: str, heartbeat: bool = False
) -> Generator[bytes, None, None]:
    """Service-format PCM from `stream`, piece by piece, to the end of the container.

    A corrupt packet is skipped (the rest is still worth interpreting); a read error ends the stream by
    raising `av.FFmpegError` / `OSError` to the caller, which decides whether that is the end or a drop.
    With `heartbeat`, an empty piece is yielded for every packet that gave no audio, so a caller reading
    a stream of undecodable data gets control back and can notice that no audio is coming.
    """
    convert = ToServiceFormat()
    skipped = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            skipped += 1
            if heartbeat:
                yield b""
            continue
        produced = False
        for frame in frames:
            pcm = convert.frame(frame)
            if pcm:
                produced = True
                yield pcm
        if heartbeat and not produced:
            yield b""
    tail = convert.flush()
    if tail:
        yield tail
    if skipped:
        logger.warning("%s: skipped %d undecodable packets", what, skipped)


def decode_file(path: str) -> bytes:
    """A whole (short) recording as service-format PCM in memory, for tools, demos and benchmarks."""
    container, stream = open_audio(path, what=path)
    try:
        return b"".join(decode_pcm(container, stream, what=path))
    finally:
        container.close()

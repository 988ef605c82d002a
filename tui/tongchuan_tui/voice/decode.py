"""The service's audio of one sentence, in whatever codec it came, as the track's PCM (s16le mono).

The upload names a codec (wav, mp3, pcm) but the answer is trusted only as far as its bytes go: anything
with a container header (RIFF/WAVE, MP3 frames or ID3, Ogg, FLAC...) is decoded by PyAV whatever was asked;
bytes without one are raw s16le PCM at the rate that was asked for.
"""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from typing import Any

import av

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2
_CONTAINER_MAGIC = (b"RIFF", b"ID3", b"OggS", b"fLaC", b"FORM", b"caff")


def looks_like_container(data: bytes) -> bool:
    """Whether `data` starts like an encoded file rather than raw PCM."""
    if data[:4] in _CONTAINER_MAGIC or data[:3] == b"ID3":
        return True
    # An MPEG audio frame sync: 11 set bits.
    return len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0


def decode_voice(data: bytes, *, codec: str, sample_rate: int, track_rate: int) -> bytes:
    """`data` as s16le mono at `track_rate`; raises ValueError when it cannot be decoded at all."""
    if not data:
        return b""
    if looks_like_container(data) or codec not in ("pcm", ""):
        try:
            return _decode_container(data, track_rate)
        except (av.FFmpegError, ValueError, IndexError) as exc:
            if looks_like_container(data):
                raise ValueError(f"undecodable {codec} audio: {exc}") from None
            log.info("audio asked as %s has no known header; taking it as raw PCM", codec)
    return resample_pcm(data[: len(data) // SAMPLE_WIDTH * SAMPLE_WIDTH], sample_rate, track_rate)


def _pcm_of(frame: Any) -> bytes:
    return bytes(frame.planes[0])[: frame.samples * SAMPLE_WIDTH]


def _decode_container(data: bytes, track_rate: int) -> bytes:
    container = av.open(io.BytesIO(data), mode="r")
    try:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=track_rate)
        out = bytearray()
        for frame in container.decode(container.streams.audio[0]):
            frame.pts = None
            for converted in resampler.resample(frame):
                out += _pcm_of(converted)
        for converted in resampler.resample(None):
            out += _pcm_of(converted)
        return bytes(out)
    finally:
        container.close()


def resample_pcm(pcm: bytes, rate: int, track_rate: int) -> bytes:
    """Raw s16le mono `pcm` at `rate` converted to `track_rate`."""
    samples = len(pcm) // SAMPLE_WIDTH
    if rate == track_rate or samples == 0:
        return pcm
    frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
    frame.planes[0].update(pcm[: samples * SAMPLE_WIDTH])
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=track_rate)
    out = bytearray()
    for converted in [*resampler.resample(frame), *resampler.resample(None)]:
        out += _pcm_of(converted)
    return bytes(out)


def speed_up(pcm: bytes, rate: int, tempo: float) -> bytes:
    """`pcm` played `tempo` times faster at the same pitch (FFmpeg's atempo filter, 0.5..2)."""
    samples = len(pcm) // SAMPLE_WIDTH
    if tempo == 1.0 or samples == 0:
        return pcm
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="s16", sample_rate=rate, layout="mono", time_base=Fraction(1, rate))
    atempo = graph.add("atempo", f"{tempo:.3f}")
    sink = graph.add("abuffersink")
    source.link_to(atempo)
    atempo.link_to(sink)
    graph.configure()
    frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
    frame.planes[0].update(pcm[: samples * SAMPLE_WIDTH])
    frame.sample_rate = rate
    frame.pts = 0
    out = bytearray()
    graph.push(frame)
    graph.push(None)
    while True:
        try:
            filtered: Any = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            break
        out += bytes(filtered.planes[0])[: filtered.samples * SAMPLE_WIDTH * len(filtered.layout.channels)]
    return bytes(out)

"""Audio-source test fixtures: generated PCM, PyAV-encoded files, ALSA configs, a probe runner."""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import random
import subprocess
import sys
import wave
from array import array
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import av
from aiohttp import web

from tongchuan_tui.audio.source import AudioSource

PROBE = Path(__file__).with_name("alsa_probe.py")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
"""What the `serve` fixture (conftest.py) serves: an aiohttp handler."""


def write_wav(path: Path, pcm: bytes) -> Path:
    """`pcm` (16 kHz mono s16le) as a WAV file, as a user's recording would arrive."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm)
    return path


def wav_bytes(pcm: bytes) -> bytes:
    """`pcm` (16 kHz mono s16le) as the bytes of a WAV file, as a server would send it."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm)
    return buffer.getvalue()


def dropping_after(body: bytes, drop_after: int, connections: list[float] | None = None) -> Handler:
    """A handler serving `body` (a WAV, with its length) that drops the connection after `drop_after` bytes,
    every time: a finite resource whose server keeps failing at the same point. Each connection's time
    (monotonic) is appended to `connections`."""
    import time

    async def handler(request: web.Request) -> web.StreamResponse:
        if connections is not None:
            connections.append(time.monotonic())
        response = web.StreamResponse(headers={"Content-Type": "audio/wav", "Content-Length": str(len(body))})
        await response.prepare(request)
        await response.write(body[:drop_after])
        assert request.transport is not None
        request.transport.abort()
        return response

    return handler


def tone_wav(path: Path, seconds: float) -> Path:
    """A WAV of a steady 300 Hz tone (for tests where the emulator's cue script decides what is "said")."""
    samples = array(
        "h", (int(6000 * math.sin(2 * math.pi * 300 * i / 16_000)) for i in range(int(16_000 * seconds)))
    )
    return write_wav(path, samples.tobytes())


async def read_all(source: AudioSource, *, limit: int | None = None) -> bytes:
    """Start `source` and collect its PCM to the end (or `limit` bytes, then stop)."""
    await source.start()
    pcm = bytearray()
    try:
        async for piece in source.frames():
            assert len(piece) % 2 == 0, "a piece is not whole samples"
            pcm += piece
            if limit is not None and len(pcm) >= limit:
                break
    finally:
        await source.stop()
    return bytes(pcm)


def noise_pcm(seconds: float, *, seed: int = 7, rate: int = 16_000) -> bytes:
    """Mono s16le pseudo-random samples: no period, so any slice identifies its position."""
    rng = random.Random(seed)
    count = int(seconds * rate)
    return array("h", (rng.randint(-20_000, 20_000) for _ in range(count))).tobytes()


def tone_samples(seconds: float, *, freq: float, rate: int, amplitude: int = 12_000) -> list[int]:
    """A sine tone as integer samples."""
    return [int(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate))]


def encode_tone(
    path: Path, *, fmt: str, codec: str, rate: int, layout: str, seconds: float, freq: float
) -> Path:
    """Write a sine tone with PyAV's encoder (the same tone on every channel)."""
    channels = av.AudioLayout(layout).nb_channels
    samples = tone_samples(seconds, freq=freq, rate=rate)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.audio.stream.AudioStream)
        block = 1024
        for start in range(0, len(samples), block):
            piece = samples[start : start + block]
            interleaved = array("h", (s for s in piece for _ in range(channels)))
            frame = av.AudioFrame(format="s16", layout=layout, samples=len(piece))
            frame.planes[0].update(interleaved.tobytes())
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


TYPICAL_ENCODINGS = {
    ".wav": ("wav", "pcm_s16le", 16_000),
    ".ogg": ("ogg", "libopus", 48_000),
    ".mp3": ("mp3", "libmp3lame", 44_100),
    ".m3u8": ("hls", "aac", 44_100),
}
"""(container, codec, sample rate) of a typical file of each kind a user would give."""


def tone_file(path: Path, seconds: float, *, layout: str = "mono", freq: float = 440.0) -> Path:
    """A sine tone encoded as a typical file of `path`'s kind (see TYPICAL_ENCODINGS)."""
    fmt, codec, rate = TYPICAL_ENCODINGS[path.suffix]
    return encode_tone(path, fmt=fmt, codec=codec, rate=rate, layout=layout, seconds=seconds, freq=freq)


def samples_of(pcm: bytes) -> array[int]:
    """s16le bytes as integer samples."""
    values = array("h")
    values.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        values.byteswap()
    return values


def zero_crossings(pcm: bytes, *, skip_s: float = 0.1) -> float:
    """Rising zero crossings per second (one per cycle of a tone), skipping codec warm-up at both ends."""
    values = samples_of(pcm)
    edge = int(skip_s * 16_000)
    middle = values[edge : len(values) - edge]
    rising = sum(1 for a, b in itertools.pairwise(middle) if a < 0 <= b)
    return rising / (len(middle) / 16_000)


def write_asoundrc(home: Path, infile: Path, *, name: str = "tctest", default: bool = True) -> Path:
    """A capture device that plays `infile` (raw s16le) through ALSA's `file` plugin over a null slave."""
    text = (
        f"pcm.{name} {{\n"
        "  type file\n"
        '  slave.pcm "null"\n'
        '  file "/dev/null"\n'
        f'  infile "{infile}"\n'
        '  format "raw"\n'
        "}\n"
    )
    if default:
        text += f"pcm.!default {name}\n"
    path = home / ".asoundrc"
    path.write_text(text)
    return path


def run_probe(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> dict[str, Any]:
    """Run alsa_probe.py in a fresh process with HOME=`home` (ALSA caches its config per process)."""
    full_env = {**os.environ, "HOME": str(home), **(env or {})}
    done = subprocess.run(
        [sys.executable, str(PROBE), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"probe failed ({done.returncode}): {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["stderr"] = done.stderr
    return result


def run_devices_command(home: Path, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `devices` command as its own process, as a user would."""
    code = "from tongchuan_tui.commands.devices import devices_command; devices_command()"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def spawn_arecord(file_type: str, samples: int) -> subprocess.Popen[bytes]:
    """`arecord` from the default ALSA device to a pipe, as in the documented SSH recipe."""
    command = ["arecord", "-q", "-D", "default", "-f", "S16_LE", "-r", "16000", "-c", "1", "-t", file_type]
    return subprocess.Popen([*command, "-s", str(samples)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

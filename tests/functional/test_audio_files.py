"""Files (PyAV decode + resample), stdin through real pipes, and URLs served by a real local HTTP server."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
import threading
import time
from array import array
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from tests.functional.audio_helpers import (
    Handler,
    encode_tone,
    noise_pcm,
    read_all,
    tone_file,
    tone_samples,
    wav_bytes,
    zero_crossings,
)

from tongchuan_tui.audio.factory import open_source
from tongchuan_tui.audio.file import FileSource
from tongchuan_tui.audio.resample import ToServiceFormat
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.stdin import StdinSource
from tongchuan_tui.audio.url import UrlSource

PACKET = 6400  # 200 ms of 16 kHz mono s16le
TONE_HZ = 440.0


FORMATS = [
    pytest.param("wav", "pcm_s16le", 44_100, "stereo", id="wav-44k1-stereo"),
    pytest.param("flac", "flac", 44_100, "stereo", id="flac-44k1-stereo"),
    pytest.param("mp3", "libmp3lame", 44_100, "stereo", id="mp3-44k1-stereo"),
    pytest.param("ogg", "libopus", 48_000, "stereo", id="opus-48k-stereo"),
    pytest.param("wav", "pcm_s16le", 8_000, "mono", id="wav-8k-mono"),
]


@pytest.mark.parametrize(("fmt", "codec", "rate", "layout"), FORMATS)
async def test_file_becomes_16k_mono_with_duration_and_pitch_kept(
    tmp_path: Path, fmt: str, codec: str, rate: int, layout: str
) -> None:
    path = encode_tone(
        tmp_path / f"tone.{fmt}", fmt=fmt, codec=codec, rate=rate, layout=layout, seconds=2.0, freq=TONE_HZ
    )
    source = open_source(str(path))

    pcm = await read_all(source)

    assert source.description == f"file:tone.{fmt}"
    assert source.live is False
    assert abs(len(pcm) - 2 * 32_000) <= PACKET  # 2 s at 16 kHz mono s16le, ±1 packet
    assert zero_crossings(pcm) == pytest.approx(TONE_HZ, rel=0.02)


async def test_looping_file_repeats_until_stopped(tmp_path: Path) -> None:
    path = tone_file(tmp_path / "short.wav", 0.5, freq=300)
    once = await read_all(FileSource(path))
    looping = FileSource(path, loop=True)

    pcm = await read_all(looping, limit=4 * len(once))

    assert pcm[: 3 * len(once)] == once * 3
    assert looping.passes >= 3


async def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match=r"no such file; check the path") as caught:
        await open_source(str(tmp_path / "nope.mp3")).start()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["notes.txt", "notes.mp3", "empty.wav"])
async def test_a_file_that_is_not_audio_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("" if name.startswith("empty") else "Meeting notes, not a recording.\n" * 50)
    source = open_source(str(path))

    with pytest.raises(AudioInputError) as caught:
        await source.start()

    message = str(caught.value)
    assert message.startswith(str(path))
    assert "audio" in message
    assert "\n" not in message


def _write_in_pieces(fd: int, data: bytes, sizes: tuple[int, ...]) -> None:
    with os.fdopen(fd, "wb", buffering=0) as pipe:
        position, turn = 0, 0
        while position < len(data):
            size = sizes[turn % len(sizes)]
            pipe.write(data[position : position + size])
            position += size
            turn += 1


async def test_stdin_through_a_real_pipe_keeps_every_sample(tmp_path: Path) -> None:
    pcm = noise_pcm(1.5, seed=3)
    read_fd, write_fd = os.pipe()
    # Odd-sized writes split samples across reads; a final odd byte is half a sample and is dropped.
    writer = threading.Thread(target=_write_in_pieces, args=(write_fd, pcm + b"\x01", (999, 4096, 1)))
    writer.start()
    with os.fdopen(read_fd, "rb") as stream:
        source = open_source("-", stdin=stream)
        got = await read_all(source)
    writer.join()

    assert isinstance(source, StdinSource)
    assert source.description == "stdin"
    assert source.live is True  # a pipe brings audio as it is spoken, like `arecord … |`
    assert got == pcm


@pytest.mark.parametrize(("live", "expected"), [(None, False), (True, True)])
async def test_stdin_from_a_regular_file_is_not_live_unless_told(
    tmp_path: Path, live: bool | None, expected: bool
) -> None:
    raw = tmp_path / "talk.raw"
    pcm = noise_pcm(0.5, seed=4)
    raw.write_bytes(pcm)
    with raw.open("rb") as stream:
        source = open_source("-", stdin=stream, stdin_live=live)
        got = await read_all(source)
    assert source.live is expected
    assert got == pcm


def _spawn_cat(path: Path) -> subprocess.Popen[bytes]:
    """Another process writing `path` to its stdout (a pipe), like `arecord … |`."""
    code = f"import sys; sys.stdout.buffer.write(open({str(path)!r}, 'rb').read())"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)


async def test_stdin_from_another_process(tmp_path: Path) -> None:
    pcm = noise_pcm(1.0, seed=5)
    fixture = tmp_path / "in.raw"
    fixture.write_bytes(pcm)
    with _spawn_cat(fixture) as producer:
        assert producer.stdout is not None
        got = await read_all(StdinSource(producer.stdout))
    assert producer.returncode == 0
    assert got == pcm


async def test_stdin_that_is_a_terminal_is_refused() -> None:
    controller, terminal = pty.openpty()
    try:
        with os.fdopen(terminal, "rb", buffering=0) as tty, pytest.raises(AudioInputError, match="terminal"):
            await StdinSource(tty).start()
    finally:
        os.close(controller)


# --- URLs, served by a real aiohttp server on 127.0.0.1 ---


async def test_url_file_over_http(tmp_path: Path, serve: Callable[[Handler], Awaitable[str]]) -> None:
    path = tone_file(tmp_path / "talk.ogg", 2.0, layout="stereo", freq=TONE_HZ)

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path)  # with Content-Length and Range support, like any web server

    url = await serve(handler)
    source = open_source(url)

    pcm = await read_all(source)

    assert isinstance(source, UrlSource)
    assert source.live is False  # a known duration: a file, read with backpressure
    assert source.description.startswith("url:http://127.0.0.1:")
    assert "SECRET" not in source.description  # a query may hold a token: never shown or journaled
    assert source.reconnects == 0
    assert pcm == await read_all(FileSource(path))  # same audio as decoding the file locally


async def test_hls_playlist_over_http(tmp_path: Path, serve: Callable[[Handler], Awaitable[str]]) -> None:
    playlist = tone_file(tmp_path / "index.m3u8", 3.0, freq=TONE_HZ)
    segments = [name for name in os.listdir(tmp_path) if name.endswith(".ts")]
    assert len(segments) >= 2  # a real multi-segment playlist

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(tmp_path / request.match_info.get("name", playlist.name))

    url = (await serve(handler)).replace("/stream?", "/stream/index.m3u8?")
    source = open_source(url)

    pcm = await read_all(source)

    assert source.live is False  # a VOD playlist (#EXT-X-ENDLIST) has a duration
    assert abs(len(pcm) - 3 * 32_000) <= PACKET
    assert zero_crossings(pcm) == pytest.approx(TONE_HZ, rel=0.02)


def _first_connection_drops(
    body: bytes, drop_after: int, *, sized: bool, connections: list[int] | None = None
) -> Handler:
    """Serve `body`, the first connection dropped after `drop_after` bytes: with its length (as a file is
    served) or, not `sized`, chunked without length or ranges (as a live stream looks). Each connection
    appends its number to `connections`."""
    served = connections if connections is not None else []
    headers = (
        {"Content-Type": "audio/wav", "Content-Length": str(len(body))}
        if sized
        else {"Content-Type": "application/octet-stream"}
    )

    async def handler(request: web.Request) -> web.StreamResponse:
        served.append(len(served))
        response = web.StreamResponse(headers=headers)
        if not sized:
            response.enable_chunked_encoding()
        await response.prepare(request)
        if len(served) == 1:
            await response.write(body[:drop_after])
            assert request.transport is not None
            request.transport.abort()
            return response
        await response.write(body)
        await response.write_eof()
        return response

    return handler


async def test_url_dropped_mid_stream_reconnects_and_resumes(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    pcm = noise_pcm(3.0, seed=9)
    body = wav_bytes(pcm)
    requests: list[int] = []
    # The header and 1 s, then the connection drops.
    url = await serve(_first_connection_drops(body, 44 + 32_000, sized=True, connections=requests))
    source = UrlSource(url, reconnect_delays=(0.05,))

    got = await read_all(source)

    assert source.live is False
    assert source.reconnects == 1
    assert len(requests) == 2
    assert got == pcm  # nothing lost, nothing repeated


async def test_unsized_file_that_drops_is_resumed_and_ends(
    tmp_path: Path, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    path = tone_file(tmp_path / "talk.ogg", 2.0, freq=TONE_HZ)
    body = path.read_bytes()
    url = await serve(_first_connection_drops(body, len(body) // 2, sized=False))
    source = UrlSource(url, reconnect_delays=(0.05,))

    pcm = await read_all(source, limit=10 * 32_000)

    # No length: it looks live. Served again from its start, it is recognised as a file: what was already
    # sent is skipped after the drop, and the stream ends when the next connection replays it once more.
    assert source.live is True
    assert source.reconnects >= 1
    local = await read_all(FileSource(path))
    assert abs(len(pcm) - len(local)) < PACKET
    # Identical but for the few milliseconds at the cut, where the last frame received was incomplete.
    differing = [i for i in range(min(len(pcm), len(local))) if pcm[i] != local[i]]
    assert differing, "the drop was expected to damage the frame at the cut"
    assert differing[-1] - differing[0] < PACKET


async def test_live_url_that_drops_continues_from_the_live_point(
    tmp_path: Path, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    path = tone_file(tmp_path / "radio.mp3", 6.0, freq=TONE_HZ)
    body = path.read_bytes()
    position = 0
    connections = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        # Like a radio: each connection gets the broadcast from where it now is; the first one drops.
        nonlocal position, connections
        connections += 1
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        part = body[position : position + len(body) // 3]
        position += len(part)
        await response.write(part)
        assert request.transport is not None
        request.transport.abort()
        return response

    url = await serve(handler)
    source = UrlSource(url, reconnect_delays=(0.05,))

    pcm = await read_all(source, limit=int(4.5 * 32_000))  # more than the first connection carried

    assert source.live is True
    assert source.reconnects >= 1
    assert connections >= 2
    # Each connection's audio is the tone (the splice itself is a phase jump, so judge half-seconds).
    halves = [pcm[i : i + 16_000] for i in range(0, len(pcm) - 16_000 + 1, 16_000)]
    rates = sorted(zero_crossings(half, skip_s=0) for half in halves)
    assert rates[len(rates) // 2] == pytest.approx(TONE_HZ, rel=0.02)


async def test_unreachable_url_fails_quickly() -> None:
    with socket_port() as port:
        source = open_source(f"http://127.0.0.1:{port}/live.m3u8")
        started = time.monotonic()
        with pytest.raises(AudioInputError, match=r"cannot be read as audio .*check the URL"):
            await source.start()
    assert time.monotonic() - started < 5


class socket_port:
    """A local TCP port that nothing listens on (bound, never listening, so it stays unused)."""

    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        return int(self._socket.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._socket.close()


async def test_stop_ends_a_pending_frames_iteration() -> None:
    read_fd, write_fd = os.pipe()  # a pipe nobody writes to: frames() waits for audio
    try:
        with os.fdopen(read_fd, "rb") as stream:
            source = StdinSource(stream)
            await source.start()

            async def consume() -> int:
                return sum([len(piece) async for piece in source.frames()])

            consumer = asyncio.create_task(consume())
            await source.stop()
            assert await asyncio.wait_for(consumer, 5) == 0
            # The worker was not left blocked in a read of the idle pipe (it would hold stdin at exit).
            assert source._thread is not None
            assert not source._thread.is_alive()
    finally:
        if write_fd >= 0:
            os.close(write_fd)


def test_device_buffers_at_44k1_stereo_are_converted_seamlessly() -> None:
    # What MicSource does when a device cannot capture 16 kHz mono: convert each 100 ms buffer as it comes.
    samples = tone_samples(2.0, freq=TONE_HZ, rate=44_100)
    stereo = array("h", (s for s in samples for _ in range(2))).tobytes()
    buffer = 4410 * 4  # 100 ms of 44.1 kHz stereo s16

    piecewise = ToServiceFormat()
    pcm = b"".join(piecewise.pcm(stereo[i : i + buffer], 44_100, 2) for i in range(0, len(stereo), buffer))
    pcm += piecewise.flush()
    whole = ToServiceFormat()
    at_once = whole.pcm(stereo, 44_100, 2) + whole.flush()

    assert pcm == at_once  # no seams where the buffers meet
    assert len(pcm) == 2 * 32_000
    assert zero_crossings(pcm) == pytest.approx(TONE_HZ, rel=0.01)
    assert ToServiceFormat().pcm(b"\x01\x02" * 10, 16_000, 1) == b"\x01\x02" * 10  # already right: untouched

"""Inputs as a user meets them, through the real command line against the emulator: signals while stdin is
idle, stdin closed, piped audio being live, no terminal for the UI, and URLs that drop or serve no audio
(served by a real aiohttp server on 127.0.0.1, the `serve` fixture)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from tests.functional.audio_helpers import Handler, dropping_after, noise_pcm, wav_bytes, write_wav
from tests.functional.test_cli_errors import CREDS, one_line, run_cli
from tests.functional.test_cli_live import cli_env, wait_for

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.faults import FaultConfig
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread
from tongchuan_tui.journal.reader import read_journal

BPMS = 32  # bytes of 16 kHz s16le mono per millisecond


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread() as handle:
        yield handle


def interpreter(*args: str, home: Path, handle: EmulatorHandle, **popen: object) -> subprocess.Popen[str]:
    """The real command line against `handle`, stdout and stderr piped."""
    command = [sys.executable, "-m", "tongchuan_tui", *args, "--endpoint", handle.url]
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        command,
        env=cli_env(home, handle),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def jsonl_events(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


# --- item 3: crashes ---


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_stdin_is_idle_ends_cleanly(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle, signum: int, code: int
) -> None:
    journal = tmp_path / "idle.jsonl"
    read_fd, write_fd = os.pipe()
    process = interpreter(
        *("--input", "-", "--plain", "--log", str(journal)),
        home=isolated_home,
        handle=emulator,
        stdin=read_fd,
    )
    os.close(read_fd)
    try:
        os.write(write_fd, noise_pcm(0.5, seed=2))
        # Once the service has the first packet, the reader is waiting on a pipe with nothing more to come.
        wait_for(lambda: bool(emulator.state.session_uuids), 20, "the first packet")
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        os.close(write_fd)
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    assert "Fatal Python error" not in err
    assert "Traceback" not in err
    assert read_journal(journal).closed


def test_stdin_closed_is_one_line_and_exit_4(isolated_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    env.update(CREDS, HOME=str(isolated_home))
    done = subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", "--input", "-", "--plain", "--no-log"],
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),  # started as `tongchuan-tui --input - <&-`
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == exitcodes.BAD_INPUT
    assert "stdin is closed" in one_line(done.stderr)


# --- item 4: piped audio is live; lag for every input ---

SLOW = FaultConfig(latency_ms=1500)
"""Each request answered after 1.5 s: at most 500 ms of audio per 1.5 s gets through."""


def _feed_in_real_time(fd: int, pcm: bytes, stop: threading.Event) -> None:
    """What `arecord … |` does: 100 ms of audio every 100 ms, whatever the reader does."""
    step = 100 * BPMS
    started = time.monotonic()
    for n, start in enumerate(range(0, len(pcm), step)):
        if stop.wait(max(0.0, started + (n + 1) * 0.1 - time.monotonic())):
            return
        os.write(fd, pcm[start : start + step])
    os.close(fd)


@pytest.mark.realtime
def test_piped_stdin_is_live_when_the_service_is_slow(isolated_home: Path, emulator: EmulatorHandle) -> None:
    emulator.set_faults(SLOW)
    pcm = speech_like_pcm(5000, [(300, 2000), (2600, 4600)], seed=4)
    read_fd, write_fd = os.pipe()
    process = interpreter(
        *("--input", "-", "--jsonl", "--no-log", "--max-backlog-ms", "1000"),
        home=isolated_home,
        handle=emulator,
        stdin=read_fd,
    )
    os.close(read_fd)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed_in_real_time, args=(write_fd, pcm, stop))
    feeder.start()
    try:
        out, err = process.communicate(timeout=60)
    finally:
        stop.set()
        feeder.join()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    events = jsonl_events(out)
    # Live: what the slow service could not take in time was dropped (past the 1 s bound), as a microphone's
    # would be, instead of the reader holding up the recorder and the session falling behind without limit.
    dropped_ms = sum(int(e["duration_ms"]) for e in events if e["type"] == "AudioDropped")  # type: ignore[call-overload]
    assert dropped_ms >= 1_000, "piped audio was treated as a file: nothing dropped"


@pytest.mark.realtime
def test_stdin_from_a_regular_file_is_not_live_and_its_lag_is_measured(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    emulator.set_faults(SLOW)
    raw = tmp_path / "talk.raw"
    pcm = speech_like_pcm(3000, [(300, 2600)], seed=6)
    raw.write_bytes(pcm)
    with raw.open("rb") as stdin:
        process = interpreter(
            *("--input", "-", "--jsonl", "--no-log"), home=isolated_home, handle=emulator, stdin=stdin
        )
        out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    events = jsonl_events(out)
    assert not [e for e in events if e["type"] == "AudioDropped"]
    sent = sum(size for uuid in emulator.state.session_uuids for size in emulator.state.session(uuid).sizes)
    assert sent >= len(pcm)  # every byte delivered
    # 3 s of audio took about 9 s to send: the lag shown grows past the 2 s read-ahead a file keeps.
    lags = [e["stats"]["behind_live_ms"] for e in events if e["type"] == "StatsUpdated"]  # type: ignore[index]
    assert max(lags) >= 3_000


# --- item 6: no terminal, no UI ---


def test_no_terminal_and_no_headless_flag_is_refused(isolated_home: Path, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "talk.wav", noise_pcm(0.5))
    result = run_cli("--input", str(wav), "--no-log", home=isolated_home, env=CREDS)
    assert result.returncode == exitcodes.USAGE
    line = one_line(result.stderr)
    assert "terminal" in line
    assert "--plain" in line
    assert "\x1b" not in result.stderr + result.stdout  # no escape codes: the UI never started


# --- item 5: URLs that drop or are not audio ---


async def run_cli_async(
    *args: str, home: Path, handle: EmulatorHandle, env: dict[str, str], timeout_s: float
) -> tuple[int, str, str]:
    """The command line in a subprocess, awaited, so a server on this loop can answer it meanwhile."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tongchuan_tui", *args, "--endpoint", handle.url),
        env={**cli_env(home, handle), **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"still running after {timeout_s} s: the URL input never gave up")
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.realtime
async def test_url_that_keeps_dropping_backs_off_says_so_and_gives_up(
    isolated_home: Path, emulator: EmulatorHandle, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    pcm = noise_pcm(3.0, seed=9)
    connections: list[float] = []
    url = await serve(dropping_after(wav_bytes(pcm), 44 + 32_000, connections))

    code, out, err = await run_cli_async(
        *("--input", url, "--jsonl", "--no-log"),
        home=isolated_home,
        handle=emulator,
        env={"TONGCHUAN_URL_GIVE_UP_S": "4"},
        timeout_s=60,
    )

    assert code == exitcodes.BAD_INPUT, err
    assert "reconnecting in" in err  # said while it happens, not only in the log file
    assert "no new audio for" in err.splitlines()[-1]
    assert "SECRET" not in out + err
    # Backoff: 0.5, 1, 2 s… between connections (the last one cut to the time left), not one every 0.5 s.
    gaps = [b - a for a, b in itertools.pairwise(connections)]
    assert 3 <= len(connections) <= 5
    assert gaps[1] >= 0.9
    assert max(gaps) >= 1.8
    warnings = [e["message"] for e in jsonl_events(out) if e["type"] == "WarningRaised"]
    assert any("reconnecting" in str(m) for m in warnings)  # what the UI shows


@pytest.mark.realtime
async def test_url_serving_random_bytes_says_it_is_not_audio_and_gives_up(
    isolated_home: Path, emulator: EmulatorHandle, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    async def noise(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with_seed = random.Random(5)
        for _ in range(600):  # a minute of it at most
            await response.write(with_seed.randbytes(3200))
            await asyncio.sleep(0.1)
        return response

    url = await serve(noise)
    code, _, err = await run_cli_async(
        *("--input", url, "--plain", "--no-log"),
        home=isolated_home,
        handle=emulator,
        env={"TONGCHUAN_URL_GIVE_UP_S": "6"},
        timeout_s=60,
    )

    assert code == exitcodes.BAD_INPUT, err
    assert "no decodable audio" in err
    assert "Traceback" not in err

"""Many clients of one account at once: N separate `tongchuan-tui` processes against one emulator (issue 15
item 8). Each interprets the same speech file headless (`--jsonl`); they start a little apart, as people
would start them, and share nothing but the account's budget file in the runtime dir.

Per row: the emulator's RequestLimitExceeded answers (its own per-account limit, 25 Sync/s), rollovers and
pacing failures it saw, the packet length the clients settled on, and how far behind real time they ended.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.audio import speech_pcm
from benchmarks.emulator_thread import EmulatorThread

STAGGER_S = 2.0
"""Clients start at random moments within this long."""
RUN_TIMEOUT_S_PER_AUDIO_S = 6.0
"""A client still running after this many times its audio's length is killed (counted as failed)."""


@dataclass
class ClientRun:
    """One client process, from its JSON lines."""

    exit_code: int = -1
    packets: int = 0
    rate_refusals: int = 0
    rollovers: int = 0
    chunk_ms: list[int] = field(default_factory=list)
    lag_ms: float = 0.0
    """How much longer than real time its audio took to send (last packet vs the first)."""


@dataclass
class ClientsResult:
    """One row: N clients at once."""

    clients: int
    audio_s: float
    runs: list[ClientRun] = field(default_factory=list)
    uploads: int = 0
    refused: int = 0
    """Uploads the emulator refused with RequestLimitExceeded."""
    pacing_failed_sessions: int = 0
    service_sessions: int = 0
    wall_s: float = 0.0

    @property
    def refused_share(self) -> float:
        """Rate refusals over all uploads."""
        return self.refused / self.uploads if self.uploads else 0.0


def _write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm)


def _parse(lines: str) -> ClientRun:
    run = ClientRun()
    first: tuple[int, int] | None = None
    last: tuple[int, int] | None = None
    for line in lines.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("type")
        if kind == "ChunkSent":
            run.packets += 1
            run.chunk_ms.append(int(event["duration_ms"]))
            end = int(event["audio_start_ms"]) + int(event["duration_ms"])
            point = (int(event["sent_at_ms"]), end)
            first = first or point
            last = point
        elif kind == "RequestRetried" and str(event.get("code", "")).startswith("RequestLimitExceeded"):
            run.rate_refusals += 1
        elif kind == "ServiceSessionOpened" and event.get("reason") == "rollover":
            run.rollovers += 1
    if first is not None and last is not None:
        run.lag_ms = max(0.0, (last[0] - first[0]) - (last[1] - first[1]))
    return run


async def _client(
    emu: EmulatorThread, wav: Path, env: dict[str, str], delay_s: float, timeout_s: float
) -> ClientRun:
    await asyncio.sleep(delay_s)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tongchuan_tui",
        "--input",
        str(wav),
        "--endpoint",
        emu.handle.url,
        "--jsonl",
        "--no-log",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return ClientRun(exit_code=-9)
    run = _parse(out.decode(errors="replace"))
    run.exit_code = proc.returncode if proc.returncode is not None else -1
    return run


async def run_clients(counts: tuple[int, ...], audio_s: float) -> list[ClientsResult]:
    """One row per count: that many client processes at once over `audio_s` of speech, one emulator each."""
    results: list[ClientsResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-clients-") as tmp:
        wav = Path(tmp) / "speech.wav"
        _write_wav(wav, speech_pcm(audio_s))
        for count in counts:
            runtime = Path(tmp) / f"run-{count}"
            runtime.mkdir(mode=0o700)
            with EmulatorThread() as emu:
                env = {
                    **os.environ,
                    "TENCENTCLOUD_SECRET_ID": emu.handle.secret_id,
                    "TENCENTCLOUD_SECRET_KEY": emu.handle.secret_key,
                    # A private runtime dir (the shared budget file lives there) and no user config.
                    "XDG_RUNTIME_DIR": str(runtime),
                    "XDG_CONFIG_HOME": str(runtime),
                    "XDG_DATA_HOME": str(runtime),
                }
                rng = random.Random(count)
                t0 = time.monotonic()
                timeout = audio_s * RUN_TIMEOUT_S_PER_AUDIO_S + 30
                runs = await asyncio.gather(
                    *(_client(emu, wav, env, rng.uniform(0, STAGGER_S), timeout) for _ in range(count))
                )
                row = ClientsResult(count, audio_s, list(runs), wall_s=time.monotonic() - t0)
                state = emu.call(lambda emu=emu: emu.handle.state)
                uploads = [r for r in state.requests if r.action in ("TongChuanSync", "TongChuanRecognize")]
                row.uploads = len(uploads)
                row.refused = sum(1 for r in uploads if r.code.startswith("RequestLimitExceeded"))
                row.service_sessions = len(state.sessions)
                row.pacing_failed_sessions = sum(1 for s in state.sessions if s.pacing_violations)
                results.append(row)
    return results

"""The whole pipeline in real time: file → InterpreterSession → the real TsiClient → emulator, fault-free and
with each kind of injected fault, judged from the emulator's side: Seq contiguous per SessionUuid,
200–500 ms packets, nothing ahead of real time or past the gap rule, no audio twice, none lost, and the same
transcript as the cue script the emulator speaks (which a fault-free run reproduces)."""

from __future__ import annotations

import random
import wave
from pathlib import Path
from typing import Any

import pytest
from tests.functional.emulator_helpers import client_credentials

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.audio.factory import open_source
from tongchuan_tui.emulator.faults import FaultConfig
from tongchuan_tui.emulator.state import EmulatorState
from tongchuan_tui.emulator.testing import EmulatorHandle, running_emulator
from tongchuan_tui.pipeline.events import (
    Event,
    RequestRetried,
    SentenceRevised,
    ServiceSessionClosed,
    ServiceSessionOpened,
    SessionEnded,
)
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.session import InterpreterSession

pytestmark = [pytest.mark.realtime, pytest.mark.timeout(30)]

AUDIO_MS = 3000
BYTES_PER_MS = 32
# Two sentences, with a pause between them where any rollover in these tests falls (1.6 s and 2.0 s).
CUES: dict[str, Any] = {
    "source": "zh",
    "target": "en",
    "duration_ms": AUDIO_MS,
    "cues": [
        {"start_ms": 300, "end_ms": 1100, "source": "大家好。", "target": "Hello everyone."},
        {"start_ms": 2200, "end_ms": 2800, "source": "谢谢。", "target": "Thank you."},
    ],
}
EXPECTED = [("大家好。", "Hello everyone."), ("谢谢。", "Thank you.")]


@pytest.fixture
def wav_file(tmp_path: Path) -> tuple[Path, bytes]:
    """3 s of 16 kHz mono noise with no zero byte (so padding is told apart from audio)."""
    rng = random.Random(7)
    pcm = bytes(rng.randrange(1, 256) for _ in range(AUDIO_MS * BYTES_PER_MS))
    path = tmp_path / "speech.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm)
    return path, pcm


async def interpret(
    emulator: EmulatorHandle, path: Path, **options: Any
) -> tuple[int, list[Event], bytes, EmulatorState]:
    events: list[Event] = []
    tapped = bytearray()
    async with TsiClient(client_credentials(emulator), endpoint=emulator.url, timeout_s=10.0) as client:
        session = InterpreterSession(
            SessionOptions(end_timeout_s=3.0, **options),
            client,
            open_source(str(path)),
            sinks=[events.append],
            audio_tap=tapped.extend,
        )
        code = await session.run()
    return code, events, bytes(tapped), emulator.state


def judge(code: int, events: list[Event], tapped: bytes, state: EmulatorState, pcm: bytes) -> None:
    """What the emulator saw, and what a user would read."""
    assert code == exitcodes.OK, events[-1]
    assert isinstance(events[-1], SessionEnded)
    ours = [e.session_uuid for e in events if isinstance(e, ServiceSessionOpened)]
    abandoned = {
        e.session_uuid for e in events if isinstance(e, ServiceSessionClosed) and e.reason == "abandoned"
    }
    assert state.session_uuids == ours
    for snap in state.sessions:
        assert snap.seqs == list(range(len(snap.seqs))), snap.seqs
        assert all(6400 <= size <= 16000 for size in snap.sizes), snap.sizes
        assert snap.pacing_violations == ()
        assert snap.dropped_short == 0
        if snap.session_uuid in abandoned:
            # A request we gave up on may still reach the engine late; it must then be refused, not used.
            assert all(v.seq == len(snap.seqs) for v in snap.gap_violations)
        else:
            assert snap.gap_violations == ()
            assert snap.failed is None
    # Each byte of audio (and padding) reached the service once: no duplicate, nothing lost.
    assert sum(sum(s.sizes) for s in state.sessions) == len(tapped)
    assert tapped.rstrip(b"\0") == pcm
    last: dict[str, tuple[str, str, bool]] = {}
    for e in events:
        if isinstance(e, SentenceRevised):
            last[e.sentence.key] = (e.sentence.source_text, e.sentence.target_text, e.sentence.final)
    assert all(final for _, _, final in last.values())
    assert [(s, t) for s, t, _ in last.values()] == EXPECTED


async def test_fault_free_run_gives_the_script_transcript(wav_file: tuple[Path, bytes]) -> None:
    path, pcm = wav_file
    async with running_emulator(cues=CUES) as emulator:
        code, events, tapped, state = await interpret(emulator, path)
    judge(code, events, tapped, state, pcm)
    assert len(state.sessions) == 1
    assert state.sessions[0].ended
    assert not any(isinstance(e, RequestRetried) for e in events)


async def test_split_mode_gives_the_same_transcript(wav_file: tuple[Path, bytes]) -> None:
    path, pcm = wav_file
    async with running_emulator(cues=CUES) as emulator:
        code, events, tapped, state = await interpret(emulator, path, mode="split")
    judge(code, events, tapped, state, pcm)
    assert "TongChuanDisplay" in {r.action for r in state.requests}


async def test_slow_answers_are_coalesced_without_running_ahead(wav_file: tuple[Path, bytes]) -> None:
    path, pcm = wav_file
    faults = FaultConfig(latency_ms=330, jitter_ms=60)
    async with running_emulator(cues=CUES, faults=faults) as emulator:
        code, events, tapped, state = await interpret(emulator, path)
    judge(code, events, tapped, state, pcm)
    assert max(state.sessions[0].sizes) > 6400  # some packets carried more than 200 ms to catch up


async def test_error_codes_5xx_and_resets_are_retried_on_the_same_seq(wav_file: tuple[Path, bytes]) -> None:
    path, pcm = wav_file
    faults = FaultConfig(error_at_seq=(3,), http_5xx_at_seq=(6,), reset_at_seq=(9,))
    async with running_emulator(cues=CUES, faults=faults) as emulator:
        code, events, tapped, state = await interpret(emulator, path)
    judge(code, events, tapped, state, pcm)
    assert len(state.sessions) == 1
    retried = sorted(e.seq for e in events if isinstance(e, RequestRetried) if e.seq is not None)
    assert retried == [3, 6, 9]
    assert {"InternalError", "HTTP503", "reset"} <= set(state.codes())


async def test_a_stalled_request_rolls_over_to_a_new_session_in_time(wav_file: tuple[Path, bytes]) -> None:
    path, pcm = wav_file
    # Held past the 6 s gap, so the engine refuses it when it finally gets through: nothing heard twice.
    faults = FaultConfig(stall_at_seq=(10,), stall_ms=6_500)
    async with running_emulator(cues=CUES, faults=faults) as emulator:
        code, events, tapped, state = await interpret(emulator, path)
        closed = [e.reason for e in events if isinstance(e, ServiceSessionClosed)]
        opened = [(e.reason, e.offset_ms) for e in events if isinstance(e, ServiceSessionOpened)]
    assert closed == ["abandoned", "input-ended"]
    # The new session starts where the service's audio of the old one ended (2 s unless timers ran late).
    delivered_ms = sum(state.sessions[0].sizes) // BYTES_PER_MS
    assert opened == [("start", 0), ("rollover", delivered_ms)]
    assert 2000 <= delivered_ms < 2200
    judge(code, events, tapped, state, pcm)

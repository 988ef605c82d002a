"""Helpers for the voice tests: a cue script of many short sentences, a playback device that writes to a file,
and finding each sentence's speech in a track."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Any

from tongchuan_tui.emulator.testing import EmulatorHandle
from tongchuan_tui.emulator.tts import speech_audio
from tongchuan_tui.voice.decode import decode_voice

WORDS = [
    "Good morning.",
    "Welcome back.",
    "Thank you all.",
    "Let us begin.",
    "Next slide please.",
    "Very good.",
    "Any questions?",
    "One more thing.",
    "That is right.",
    "Look at this.",
    "It works well.",
    "We agree.",
    "See the chart.",
    "Costs went down.",
    "Sales went up.",
    "Goodbye for now.",
]


def many_cues(count: int, spacing_ms: int) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """A zh → en cue script of `count` short sentences, one every `spacing_ms`, and their speech spans."""
    cues, spans = [], []
    for i in range(count):
        start, end = i * spacing_ms + 200, i * spacing_ms + spacing_ms // 2 + 200
        cues.append(
            {"start_ms": start, "end_ms": end, "source": f"第{i + 1}句。", "target": WORDS[i % len(WORDS)]}
        )
        spans.append((start, end))
    return {"source": "zh", "target": "en", "cues": cues}, spans


def expected_speech(text: str, rate: int = 16_000, codec: str = "wav") -> bytes:
    """The PCM the emulator speaks for `text` (in English), as the track holds it."""
    audio = speech_audio(text, "en", codec, rate)
    assert audio is not None
    return decode_voice(base64.b64decode(audio), codec=codec, sample_rate=rate, track_rate=rate)


def occurrences(track: bytes, speech: bytes) -> list[int]:
    """Byte offsets (sample-aligned) where a distinctive middle part of `speech` occurs in `track`."""
    middle = len(speech) // 2 // 2 * 2
    probe = speech[middle : middle + 3200]  # 100 ms from the middle of the sentence
    found, at = [], track.find(probe)
    while at >= 0:
        if at % 2 == 0:
            found.append(at - middle)
        at = track.find(probe, at + 2)
    return found


def write_playback_asoundrc(home: Path, outfile: Path) -> Path:
    """A default playback device that writes what it is given (raw s16le) to `outfile`, over a null slave."""
    text = (
        "pcm.tcvoice {\n"
        "  type file\n"
        '  slave.pcm "null"\n'
        f'  file "{outfile}"\n'
        '  format "raw"\n'
        "}\n"
        "pcm.!default tcvoice\n"
    )
    path = home / ".asoundrc"
    path.write_text(text)
    return path


def cli_command(handle: EmulatorHandle, *args: str) -> list[str]:
    """The interpreter's command line against the emulator."""
    return [sys.executable, "-m", "tongchuan_tui", "--endpoint", handle.url, *args]


def cli_env(home: Path, handle: EmulatorHandle) -> dict[str, str]:
    """The environment of a CLI child: its own HOME (and so its own .asoundrc), the emulator's keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    env.update(
        HOME=str(home),
        TENCENTCLOUD_SECRET_ID=handle.secret_id,
        TENCENTCLOUD_SECRET_KEY=handle.secret_key,
        PYTHONUNBUFFERED="1",
    )
    return env

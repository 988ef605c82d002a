"""The emulator with several targets of one speech: each session answers in its Target's language, sessions
of different targets interpret the same speech side by side, and its state shows which audio each received
and the peak request rate."""

from __future__ import annotations

import pytest

from tongchuan_tui.emulator.cues import CueError, CueScript
from tongchuan_tui.emulator.engine import Engine
from tongchuan_tui.emulator.state import EmulatorState, RequestRecord
from tongchuan_tui.emulator.validate import Upload
from tongchuan_tui.emulator.wire import ACTION_DISPLAY, ACTION_SYNC

PACKET = b"\x01\x00" * 3200  # 200 ms
CUES = CueScript.from_json(
    [
        {"start_ms": 0, "end_ms": 800, "source": "你好", "target": {"en": "Hello", "ja": "こんにちは"}},
        {"start_ms": 1000, "end_ms": 1800, "source": "再见", "target": {"en": "Goodbye", "ja": "さようなら"}},
    ]
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_000_000.0

    def __call__(self) -> float:
        return self.now


def test_each_target_hears_the_whole_speech_in_its_own_language() -> None:
    clock = Clock()
    engine = Engine(clock=clock, cues=CUES)
    for seq in range(10):
        for target in ("en", "ja", "ko"):
            engine.upload("id", Upload(f"s-{target}", "zh", target, seq, 0, seq == 9, 2, PACKET))
        clock.now += 0.2
    sessions = {s.target: s for s in engine.snapshot()}
    assert [t for _, t in sessions["en"].final_texts] == ["Hello", "Goodbye"]
    assert [t for _, t in sessions["ja"].final_texts] == ["こんにちは", "さようなら"]
    # A language the script does not give: the first one's text.
    assert [t for _, t in sessions["ko"].final_texts] == ["Hello", "Goodbye"]
    assert [s for s, _ in sessions["ja"].final_texts] == ["你好", "再见"]
    # The same audio reached each: equal digests, per packet and as a whole.
    assert sessions["en"].audio_sha256 == sessions["ja"].audio_sha256 != ""
    assert [p.digest for p in sessions["en"].packets] == [p.digest for p in sessions["ja"].packets]


def test_a_translation_per_language_must_be_text_in_a_known_language() -> None:
    with pytest.raises(CueError, match="target per language"):
        CueScript.from_json([{"start_ms": 0, "end_ms": 800, "source": "你好", "target": {"xx": "Hi"}}])


def test_peak_rate_counts_the_busiest_second_of_one_action() -> None:
    times = [0.0, 0.1, 0.5, 0.99, 1.0, 1.05, 3.0]
    requests = tuple(RequestRecord(t, ACTION_SYNC, "s", i, "") for i, t in enumerate(times))
    display = RequestRecord(0.2, ACTION_DISPLAY, "s", None, "")
    state = EmulatorState(sessions=(), requests=(*requests, display))
    # [0.1, 1.1) holds 0.1, 0.5, 0.99, 1.0, 1.05.
    assert state.peak_rate(ACTION_SYNC) == 5
    assert state.peak_rate(ACTION_DISPLAY) == 1

"""The device player's pacing on a fake clock: it keeps a small lead over real time, plays queued speech once
and in order between silence, and plays silence in its place while muted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tongchuan_tui.voice.player import VoicePlayer

RATE = 16_000
MS = RATE // 1000 * 2  # bytes per ms


class Device:
    """An output stream that keeps what it is given (no clock of its own, like ALSA's null slave)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lock = threading.Lock()
        self.stopped = False

    def write(self, pcm: bytes) -> None:
        with self.lock:
            self.data += pcm

    def stop_stream(self) -> None:
        self.stopped = True

    def close(self) -> None:
        pass

    def written_ms(self) -> int:
        with self.lock:
            return len(self.data) // MS


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Port:
    def terminate(self) -> None:
        pass


def wait_for(condition: Callable[[], bool], what: str, within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def rig() -> tuple[VoicePlayer, Device, Clock]:
    device = Device()
    clock = Clock()

    def opener(spec: str, rate: int) -> tuple[Any, Any, str]:
        return Port(), device, "fake"

    player = VoicePlayer("default", RATE, clock=clock, lead_ms=200, opener=opener)
    return player, device, clock


def test_player_stays_a_lead_ahead_of_the_clock_and_plays_speech_once(
    rig: tuple[VoicePlayer, Device, Clock],
) -> None:
    player, device, clock = rig
    player.start()
    try:
        wait_for(lambda: device.written_ms() >= 200, "the lead of silence")
        assert device.written_ms() < 260  # not flooded while the clock stands still
        speech = b"\x11\x22" * (RATE // 2)  # 500 ms
        player.enqueue(speech)
        assert player.queued_ms() > 0
        clock.now += 1.0
        wait_for(lambda: device.written_ms() >= 1200, "a second more")
        assert device.written_ms() < 1260
        with device.lock:
            data = bytes(device.data)
        assert data.count(speech) == 1
        at = data.find(speech)
        assert at == pytest.approx(200 * MS, abs=30 * MS)  # right after the lead: it was idle
        assert data[:at] == bytes(at)
        wait_for(lambda: player.queued_ms() == 0, "the queue to drain")
    finally:
        player.close(timeout_s=1.0)
    assert device.stopped


def test_muted_player_plays_silence_and_still_drains(rig: tuple[VoicePlayer, Device, Clock]) -> None:
    player, device, clock = rig
    player.start()
    try:
        player.set_muted(True)
        player.enqueue(b"\x11\x22" * (RATE // 4))
        clock.now += 1.0
        wait_for(lambda: device.written_ms() >= 1200, "a second of playback")
        wait_for(lambda: player.queued_ms() == 0, "the queue to drain")
        with device.lock:
            assert bytes(device.data) == bytes(len(device.data))
    finally:
        player.close(timeout_s=1.0)

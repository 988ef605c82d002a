"""The health state under each fault the emulator injects, from a real session on a file over HTTP: what the
header would say, read from the `HealthChanged` events every viewer gets (real time, a few seconds each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.functional.audio_helpers import tone_wav
from tests.functional.emulator_helpers import client_credentials

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.audio.file import FileSource
from tongchuan_tui.emulator.faults import FaultConfig
from tongchuan_tui.emulator.testing import running_emulator
from tongchuan_tui.pipeline.events import Event, HealthChanged, StatsUpdated
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.session import InterpreterSession

CUES = {
    "source": "zh",
    "target": "en",
    "cues": [{"start_ms": 200, "end_ms": 1500, "source": "第一句。", "target": "Sentence one."}],
}


async def health_under(faults: FaultConfig, tmp_path: Path, seconds: float = 4.0) -> list[Event]:
    audio = tone_wav(tmp_path / "talk.wav", seconds)
    events: list[Event] = []
    async with (
        running_emulator(cues=CUES, faults=faults) as emulator,
        TsiClient(client_credentials(emulator), endpoint=emulator.url) as client,
    ):
        source = FileSource(audio)
        options = SessionOptions(source="zh", target="en", endpoint_host=emulator.host, emulated=True)
        session = InterpreterSession(options, client, source, sinks=[events.append])
        assert await session.run() == exitcodes.OK
    return events


def states(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.state, e.reason) for e in events if isinstance(e, HealthChanged)]


@pytest.mark.realtime
@pytest.mark.parametrize(
    ("faults", "trouble"),
    [
        (FaultConfig(error_at_seq=(3,), error_code="InternalError"), ("degraded", "retrying")),
        (FaultConfig(http_5xx_at_seq=(3,)), ("degraded", "retrying")),
        (FaultConfig(reset_at_seq=(3,)), ("degraded", "retrying")),
        (FaultConfig(error_at_seq=(3,), error_code="FailedOperation"), ("reconnecting", "rollover")),
        (FaultConfig(stall_at_seq=(3,), stall_ms=8000), ("degraded", "slow")),
    ],
    ids=["api-error", "http-5xx", "reset", "failed-operation", "stall"],
)
async def test_each_fault_shows_in_the_health_state_and_it_recovers(
    tmp_path: Path, faults: FaultConfig, trouble: tuple[str, str]
) -> None:
    seen = states(await health_under(faults, tmp_path, 7.0 if faults.stall_at_seq else 4.0))
    assert seen[0] == ("starting", "")
    assert trouble in seen, seen
    after = seen[seen.index(trouble) + 1 :]
    assert ("live", "") in after, f"no recovery after {trouble}: {seen}"
    assert seen[-1] == ("ended", "input-ended")
    if faults.stall_at_seq:
        assert ("reconnecting", "rollover") in after, seen


@pytest.mark.realtime
async def test_latency_is_slow_and_the_lag_is_measured(tmp_path: Path) -> None:
    events = await health_under(FaultConfig(latency_ms=2600), tmp_path, 2.0)
    assert ("degraded", "slow") in states(events)
    stats = [e.stats for e in events if isinstance(e, StatsUpdated)]
    assert stats[-1].rtt_now_ms is not None
    assert stats[-1].rtt_now_ms >= 2600
    assert stats[-1].lag_first_ms is not None
    # The first words (at 0.2 s) came back after at least one 2.6 s round trip: by then the 1:1 listener
    # had heard most of the 2 s file.
    assert stats[-1].lag_first_ms >= 1500, "speaker to screen includes the slow answers"

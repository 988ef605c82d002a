"""Our client's InterpreterSession against a matrix of wire variants: every way the service may answer on
the points the API reference leaves open gives the same final transcript, with the service's rules kept.

Each run is 3 s of audio in real time; the matrix is a handful of hand-picked combinations (the hard cases
together) and two `--vary` seeds, so it stays affordable in CI.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from tests.functional.audio_helpers import noise_pcm, write_wav
from tests.functional.emulator_helpers import client_credentials

from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.audio.factory import open_source
from tongchuan_tui.emulator.faults import FaultConfig, Refusal
from tongchuan_tui.emulator.testing import running_emulator
from tongchuan_tui.emulator.variants import WireVariant
from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised, ServiceSessionOpened, SessionEnded
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.session import InterpreterSession

pytestmark = [pytest.mark.realtime, pytest.mark.timeout(40)]

AUDIO_S = 3.0
CUES: dict[str, Any] = {
    "source": "zh",
    "target": "en",
    "duration_ms": 3000,
    "cues": [
        {"start_ms": 200, "end_ms": 1000, "source": "大家好。", "target": "Hello everyone."},
        {"start_ms": 1200, "end_ms": 1900, "source": "开始吧。", "target": "Let's begin."},
        {"start_ms": 2100, "end_ms": 2800, "source": "谢谢。", "target": "Thank you."},
    ],
}
EXPECTED = [(c["source"], c["target"]) for c in CUES["cues"]]

# Two cases need the scheduler fixes of branch `sched` (issue 15 item 1: pacing anchored to the accepted
# Seq 0; issue 8: a Seq refused as a duplicate counts as delivered). That branch also adds the agreed
# `Sentence.interrupted` field, so its presence says the fixes are in; until then these cases are expected to
# fail (strictly: once the fixes land they must pass).
SCHED_FIXES = "interrupted" in {f.name for f in dataclasses.fields(Sentence)}
NEEDS_SCHED = pytest.mark.xfail(
    not SCHED_FIXES,
    strict=True,
    reason="needs branch sched: duplicate-as-delivered, pacing from accepted Seq 0",
)
#: (variant, mode, faults): the open points in hard combinations, each in sync or split mode.
MATRIX: dict[str, tuple[WireVariant, str, FaultConfig]] = {
    "opaque-changed-seconds-extra-slow-clock-sync": (
        WireVariant(
            se_id="opaque", sync_list="changed", time_unit="s", extra_fields=True, clock_offset_s=-420
        ),
        "sync",
        FaultConfig(),
    ),
    "opaque-null-10ms-fast-clock-split": (
        WireVariant(se_id="opaque", empty_list="null", time_unit="10ms", omit_empty=True, clock_offset_s=420),
        "split",
        FaultConfig(),
    ),
    "numbers-as-json-and-text-all-listed-sync": (
        WireVariant(se_id="number", sync_list="all", string_ints=True, empty_list="missing"),
        "sync",
        FaultConfig(),
    ),
    "duplicate-refused-after-a-lost-answer-sync": (
        WireVariant(se_id="opaque", duplicate_seq="refuse", sync_list="changed"),
        "sync",
        FaultConfig(lose_response_at_seq=(4,)),
    ),
    "seq-refused-at-0-and-later-sync": (
        WireVariant(se_id="opaque"),
        "sync",
        FaultConfig(refusals=(Refusal(0, 4), Refusal(6, 3, "ServiceUnavailable"))),
    ),
    "vary-seed-1-split": (WireVariant.random(1), "split", FaultConfig()),
    "vary-seed-2-sync": (WireVariant.random(2), "sync", FaultConfig()),
}


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("variants") / "talk.wav", noise_pcm(AUDIO_S))


async def interpret(
    variant: WireVariant, mode: str, faults: FaultConfig, wav: Path, cues: dict[str, Any] = CUES
) -> tuple[int, list[Event], Any]:
    events: list[Event] = []
    async with running_emulator(cues=cues, variant=variant, faults=faults) as emulator:
        async with TsiClient(client_credentials(emulator), endpoint=emulator.url, timeout_s=10.0) as client:
            session = InterpreterSession(
                SessionOptions(mode=mode, end_timeout_s=3.0),
                client,
                open_source(str(wav)),
                sinks=[events.append],
            )
            code = await session.run()
        return code, events, emulator.state


def transcript(events: list[Event]) -> list[tuple[str, str, bool]]:
    """The last version of each sentence, in the order the client placed them (as a viewer shows them)."""
    last: dict[str, Any] = {}
    for e in events:
        if isinstance(e, SentenceRevised):
            last[e.sentence.key] = e.sentence
    ordered = sorted(last.values(), key=lambda s: s.start_ms)
    return [(s.source_text, s.target_text, s.final) for s in ordered]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=NEEDS_SCHED)
        if name in ("duplicate-refused-after-a-lost-answer-sync", "seq-refused-at-0-and-later-sync")
        else name
        for name in MATRIX
    ],
)
async def test_every_variant_gives_the_same_final_transcript(name: str, wav: Path) -> None:
    variant, mode, faults = MATRIX[name]
    code, events, state = await interpret(variant, mode, faults, wav)
    assert code == exitcodes.OK, (variant.describe(), events[-1])
    assert isinstance(events[-1], SessionEnded)
    assert transcript(events) == [(s, t, True) for s, t in EXPECTED], variant.describe()
    # The service's rules held: one service session, Seq contiguous, nothing ahead of real time.
    assert len([e for e in events if isinstance(e, ServiceSessionOpened)]) == 1
    (snap,) = state.sessions
    assert snap.seqs == list(range(len(snap.seqs)))
    assert snap.pacing_violations == ()
    assert snap.gap_violations == ()
    assert snap.ended


async def test_sync_mode_finds_the_sentences_through_display_when_sync_lists_stay_empty(
    tmp_path: Path,
) -> None:
    # The reference's own examples answer Sync with `[]`; a client in sync mode must then look elsewhere.
    # 6 s of audio: the client starts polling Display after 3 s of audio with empty Sync answers.
    later = [{**c, "start_ms": c["start_ms"] + 3000, "end_ms": c["end_ms"] + 3000} for c in CUES["cues"]]
    later = [
        {**c, "source": c["source"] + "再说一遍。", "target": c["target"] + " Once more."} for c in later
    ]
    cues = {**CUES, "duration_ms": 6000, "cues": CUES["cues"] + later}
    wav = write_wav(tmp_path / "six.wav", noise_pcm(6.0))
    variant = WireVariant(se_id="opaque", sync_list="empty", empty_list="null", time_unit="10ms")
    code, events, state = await interpret(variant, "sync", FaultConfig(), wav, cues)
    assert code == exitcodes.OK, events[-1]
    assert transcript(events) == [(c["source"], c["target"], True) for c in cues["cues"]]
    assert "TongChuanDisplay" in {r.action for r in state.requests}

"""The soak's and the many-clients bench's own judging, on made-up inputs (the runs themselves are real-time
and belong to `scripts/bench`)."""

from __future__ import annotations

import json

from benchmarks.clients import _parse
from benchmarks.soak import _compare, _normalised

from tongchuan_tui.pipeline.events import Sentence


def _sentence(key: str, start: int, text: str) -> Sentence:
    index, se_id = key.split(":")
    return Sentence(key, int(index), se_id, 1, text, text, start, start + 500, True)


def test_transcripts_match_across_a_rollover_despite_the_emulator_renumbering_its_sentences() -> None:
    clean = {
        "0:1": _sentence("0:1", 100, "[speech 1: 1.2 s]"),
        "0:2": _sentence("0:2", 2000, "[speech 2: 0.8 s]"),
    }
    faulted = {
        "0:1": _sentence("0:1", 120, "[speech 1: 1.2 s]"),
        "1:1": _sentence("1:1", 2000, "[speech 1: 0.8 s]"),
    }
    assert _compare(_normalised(clean), _normalised(faulted)) == []
    # A sentence cut short, or one missing, is a difference.
    faulted["1:1"] = _sentence("1:1", 2000, "[speech 1: 0.5 s]")
    assert len(_compare(_normalised(clean), _normalised(faulted))) == 1
    del faulted["1:1"]
    assert len(_compare(_normalised(clean), _normalised(faulted))) == 1


def test_a_client_s_lag_refusals_and_rollovers_come_from_its_json_lines() -> None:
    lines = [
        {"type": "ChunkSent", "sent_at_ms": 1000, "audio_start_ms": 0, "duration_ms": 200},
        {"type": "RequestRetried", "code": "RequestLimitExceeded"},
        {"type": "ChunkSent", "sent_at_ms": 1700, "audio_start_ms": 200, "duration_ms": 200},
        {"type": "ServiceSessionOpened", "reason": "rollover"},
        {"type": "ChunkSent", "sent_at_ms": 2400, "audio_start_ms": 400, "duration_ms": 500},
    ]
    run = _parse("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    assert (run.packets, run.rate_refusals, run.rollovers, run.chunk_ms) == (3, 1, 1, [200, 200, 500])
    # 1.4 s to send what real time sends in 0.7 s after the first packet.
    assert run.lag_ms == 700

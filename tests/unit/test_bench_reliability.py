"""The soak's and the many-clients bench's own judging, on made-up inputs (the runs themselves are real-time
and belong to `scripts/bench`)."""

from __future__ import annotations

import dataclasses
import json

from benchmarks.clients import _parse
from benchmarks.soak import AT_SEQ_KINDS, RATE_CODES, Turn, _compare, _normalised, attribute, fired, plan

from tongchuan_tui.emulator.faults import FaultInjector
from tongchuan_tui.emulator.state import RequestRecord
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


def test_a_re_sent_sentence_may_come_out_a_tenth_of_a_second_longer_but_no_more() -> None:
    # The re-sent stretch lies on another 20 ms frame phase: its rounded length can differ by 0.1 s.
    clean = {"0:1": _sentence("0:1", 170960, "[语音 3: 6.2 秒]")}
    faulted = {"4:1": _sentence("4:1", 170977, "[语音 1: 6.1 秒]")}
    assert _compare(_normalised(clean), _normalised(faulted)) == []
    for cut in ("[语音 1: 5.9 秒]", "[speech 1: 6.1 s]", "[语音 1: 6.1 秒] x"):
        faulted["4:1"] = _sentence("4:1", 170977, cut)
        assert len(_compare(_normalised(clean), _normalised(faulted))) == 1, cut


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


def test_every_kind_of_the_soak_s_rotation_fires_at_its_seq_under_its_label() -> None:
    # One full rotation, each period aimed at Seq 10 + AHEAD of session "now": the kind's own fault hits
    # the Seq it names, a rollover's next session ("next", Seq from 0 again) meets none of it.
    labels = set()
    for number in range(len(AT_SEQ_KINDS)):
        turn, config = plan(number, "now", 10)
        injector = FaultInjector(dataclasses.replace(config, error_rate=0.0))  # the kind alone
        hits = {injector.decide("now", seq).label for seq in range(10, 20)} - {None}
        assert hits == {turn.label}, turn.name
        assert all(injector.decide("next", seq).label in (None, "latency") for seq in range(20))
        assert config.error_code == RATE_CODES[number % len(RATE_CODES)]
        labels.add(turn.label)
    assert len(labels) == len(AT_SEQ_KINDS)


def _numbered(first: int, *records: RequestRecord) -> list[RequestRecord]:
    """Records as the emulator's log holds them deep into a long run: numbered from `first`, the earlier
    ones fallen off the log."""
    return [dataclasses.replace(r, number=first + i) for i, r in enumerate(records)]


def test_faulted_requests_are_put_down_to_the_kind_aimed_at_them_else_to_the_random_rate() -> None:
    # 7,000 requests into the soak: the log's first record is not request 0.
    turns = [
        Turn("stall", "stall", frozenset({5}), "InternalError", 7000),
        Turn("reset", "reset", frozenset({9}), "ServiceUnavailable", 7002),
    ]
    requests = _numbered(
        7000,
        RequestRecord(0.0, "TongChuanSync", "s", 4, "InternalError", "InternalError"),
        RequestRecord(0.1, "TongChuanSync", "s", 6, "", None),
        RequestRecord(0.2, "TongChuanSync", "s", 9, "reset", "reset"),
        # The stalled request is logged late, in the next period.
        RequestRecord(9.0, "TongChuanSync", "s", 5, "", "stall"),
        RequestRecord(9.1, "TongChuanSync", "s", 10, "ServiceUnavailable", "ServiceUnavailable"),
    )
    expected = {"random InternalError": 1, "reset": 1, "stall": 1, "random ServiceUnavailable": 1}
    assert attribute(requests, turns) == expected


def test_a_period_s_fault_has_fired_once_a_request_at_its_seq_bears_its_label() -> None:
    turn = Turn("HTTP 503", "HTTP503", frozenset({13, 15}), "InternalError", 5001, "now")
    requests = _numbered(
        5000,
        RequestRecord(0.0, "TongChuanSync", "now", 13, "HTTP503", "HTTP503"),  # before the period
        RequestRecord(0.1, "TongChuanSync", "now", 12, "InternalError", "InternalError"),
    )
    assert not fired(requests, turn)  # so a rollover now re-aims it at the next session
    requests += _numbered(5002, RequestRecord(0.2, "TongChuanSync", "now", 15, "HTTP503", "HTTP503"))
    assert fired(requests, turn)

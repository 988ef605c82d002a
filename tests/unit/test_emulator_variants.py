"""Wire variants, one open point at a time: SeId shapes, List semantics, time units, extra fields, integers as
text, empty lists, duplicate Seq, the --vary profile, and Seq refusals."""

from __future__ import annotations

import re

import pytest

from tongchuan_tui.commands.emulator import wire_variant
from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.cues import CueScript
from tongchuan_tui.emulator.engine import Engine
from tongchuan_tui.emulator.faults import FaultConfig, FaultInjector, Refusal
from tongchuan_tui.emulator.sentences import Sentence
from tongchuan_tui.emulator.validate import Upload
from tongchuan_tui.emulator.variants import (
    DUPLICATE_SEQ,
    EMPTY_LISTS,
    SE_ID_SHAPES,
    SYNC_LISTS,
    TIME_UNITS,
    WireVariant,
)

PACKET = b"\x01\x00" * 3200  # 200 ms
# Three sentences in 2.4 s of audio: each is revised several times while it is "heard".
CUES = CueScript.from_json(
    [
        {"start_ms": 0, "end_ms": 600, "source": "一二三", "target": "one two three"},
        {"start_ms": 800, "end_ms": 1400, "source": "四五六", "target": "four five six"},
        {"start_ms": 1600, "end_ms": 2200, "source": "七八九", "target": "seven eight nine"},
    ]
)
SENTENCE = Sentence(3, 2, "你好", "", 1234, 2345, False)


class StepClock:
    def __init__(self) -> None:
        self.now = 1_764_000_000.0

    def __call__(self) -> float:
        return self.now


def upload(seq: int, *, session: str = "s", end: bool = False) -> Upload:
    return Upload(session, "zh", "en", seq, 0, end, 2, PACKET)


def run_session(engine: Engine, clock: StepClock, listing: str, packets: int = 12) -> list[list[Sentence]]:
    """Every Sync answer's list for a paced session of `packets` packets (the last with IsEnd)."""
    answers = []
    for seq in range(packets):
        answers.append(engine.upload("id", upload(seq, end=seq == packets - 1), listing))
        clock.now += 0.2
    return answers


def folded(answers: list[list[Sentence]]) -> dict[int, Sentence]:
    """The newest version of each sentence a client would hold after these answers."""
    best: dict[int, Sentence] = {}
    for answer in answers:
        for s in answer:
            if s.se_id not in best or s.se_ver >= best[s.se_id].se_ver:
                best[s.se_id] = s
    return best


def test_numeric_ids_are_strings_and_number_ids_are_json_numbers() -> None:
    assert WireVariant().sentence("s", SENTENCE)["SeId"] == "3"
    assert WireVariant(se_id="number").sentence("s", SENTENCE)["SeId"] == 3


def test_opaque_ids_are_hex_distinct_per_session_and_not_in_order() -> None:
    variant = WireVariant(se_id="opaque")
    ids = [variant.wire_id("s", i) for i in range(12)]
    assert all(isinstance(i, str) and re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)
    assert len(set(ids)) == 12
    assert sorted(ids) != ids
    assert sorted(ids, reverse=True) != ids
    assert variant.wire_id("other", 0) != ids[0]
    assert WireVariant(se_id="opaque").wire_id("s", 5) == ids[5]  # stable within a run


@pytest.mark.parametrize(("unit", "start", "end"), [("ms", 1234, 2345), ("10ms", 123, 235), ("s", 1, 3)])
def test_times_are_sent_in_the_chosen_unit(unit: str, start: int, end: int) -> None:
    out = WireVariant(time_unit=unit).sentence("s", SENTENCE)
    assert (out["StartTime"], out["EndTime"]) == (start, end)


def test_integers_as_text_empty_fields_left_out_and_extra_fields() -> None:
    out = WireVariant(string_ints=True, omit_empty=True, extra_fields=True).sentence("s", SENTENCE)
    assert (out["SeId"], out["SeVer"], out["StartTime"], out["EndTime"]) == ("3", "2", "1234", "2345")
    assert "TargetText" not in out
    assert out["IsEnd"] is False  # a Boolean stays one
    assert {"Confidence", "SpeakerId", "Words"} <= set(out)
    plain = WireVariant().sentence("s", SENTENCE)
    assert set(plain) == {"SeId", "SeVer", "SourceText", "TargetText", "StartTime", "EndTime", "IsEnd"}


@pytest.mark.parametrize(
    ("how", "expected"), [("list", {"List": []}), ("null", {"List": None}), ("missing", {})]
)
def test_an_empty_list_is_sent_as_chosen(how: str, expected: dict[str, object]) -> None:
    payload: dict[str, object] = {}
    WireVariant(empty_list=how).put_list(payload, "s", [])
    assert payload == expected
    WireVariant(empty_list=how).put_list(payload, "s", [SENTENCE])
    assert payload["List"] == [WireVariant().sentence("s", SENTENCE)]


def test_extra_response_fields_only_when_asked() -> None:
    payload: dict[str, object] = {}
    WireVariant().extend_response(payload, "s")
    assert payload == {}
    WireVariant(extra_fields=True).extend_response(payload, "s")
    assert payload["SessionUuid"] == "s"
    assert "Status" in payload


def test_newest_lists_at_most_five_newest_first() -> None:
    clock = StepClock()
    engine = Engine(clock=clock, cues=CUES)
    answers = run_session(engine, clock, "newest")
    assert all(len(a) <= 5 for a in answers)
    assert [s.se_id for s in answers[-1]] == [2, 1, 0]


def test_changed_lists_each_revision_once_and_the_final_versions_add_up() -> None:
    clock = StepClock()
    engine = Engine(clock=clock, cues=CUES)
    answers = run_session(engine, clock, "changed")
    seen = [(s.se_id, s.se_ver) for a in answers for s in a]
    assert len(seen) == len(set(seen))  # nothing listed twice
    assert any(a == [] for a in answers)  # nothing changed in a pause
    final = engine.snapshot()[0].sentences
    assert folded(answers) == {s.se_id: s for s in final}


def test_all_lists_every_sentence_oldest_first_and_empty_lists_nothing() -> None:
    clock = StepClock()
    engine = Engine(clock=clock, cues=CUES)
    answers = run_session(engine, clock, "all")
    assert [s.se_id for s in answers[-1]] == [0, 1, 2]
    assert all(s.is_end for s in answers[-1])
    clock2 = StepClock()
    empty = Engine(clock=clock2, cues=CUES)
    assert run_session(empty, clock2, "empty") == [[]] * 12
    assert len(empty.display("id", "s")) == 3  # Display still has them


def test_a_duplicate_seq_is_refused_when_asked_and_still_counted_as_received() -> None:
    clock = StepClock()
    engine = Engine(clock=clock, cues=CUES, duplicate_seq="refuse")
    engine.upload("id", upload(0))
    clock.now += 0.2
    with pytest.raises(ApiFailure) as info:
        engine.upload("id", upload(0))
    assert info.value.code == "InvalidParameter.DuplicatedSessionIdAndSeq"
    engine.upload("id", upload(1))
    snap = engine.snapshot()[0]
    assert snap.seqs == [0, 1]
    assert [p.retried for p in snap.packets] == [1, 0]


def test_vary_is_reproducible_reports_its_seed_and_reaches_every_choice() -> None:
    assert WireVariant.random(7) == WireVariant.random(7)
    assert WireVariant.random(7).seed == 7
    picks = [WireVariant.random(seed) for seed in range(80)]
    assert len(set(picks)) == 80
    assert {p.se_id for p in picks} == set(SE_ID_SHAPES)
    assert {p.sync_list for p in picks} == set(SYNC_LISTS) - {"empty"}
    assert {p.empty_list for p in picks} == set(EMPTY_LISTS)
    assert {p.time_unit for p in picks} == set(TIME_UNITS)
    assert {p.duplicate_seq for p in picks} == set(DUPLICATE_SEQ)
    assert {p.extra_fields for p in picks} == {p.string_ints for p in picks} == {True, False}
    assert len({p.clock_offset_s for p in picks}) >= 3
    assert "se_id=" in picks[0].describe()
    assert "seed=0" in picks[0].describe()


def test_flags_given_override_the_vary_pick() -> None:
    flags = {"vary": 7, "se_id": None, "time_unit": "s", "clock_offset_s": 0.0}
    variant = wire_variant(flags)
    assert variant == WireVariant.random(7).replace(time_unit="s", clock_offset_s=0.0)
    assert wire_variant({"vary": None}) == WireVariant()


def test_bad_variants_are_refused_with_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="sync_list must be one of newest, changed, all, empty"):
        WireVariant(sync_list="window")
    with pytest.raises(ValueError, match="unknown variant field 'unit'"):
        WireVariant.from_json({"unit": "s"})
    with pytest.raises(ValueError, match="extra_fields must be true or false"):
        WireVariant.from_json({"extra_fields": 1})
    assert WireVariant.from_json({"time_unit": "10ms", "clock_offset_s": -400}) == WireVariant(
        time_unit="10ms", clock_offset_s=-400.0
    )
    assert WireVariant.from_json(WireVariant.random(3).to_json()) == WireVariant.random(3)


def test_a_refusal_refuses_its_seq_times_times_in_every_session() -> None:
    injector = FaultInjector(FaultConfig(refusals=(Refusal(0, 4), Refusal(9, 3, "ServiceUnavailable"))))
    assert [injector.decide("a", 0).error_code for _ in range(5)] == ["RequestLimitExceeded"] * 4 + [None]
    assert injector.decide("a", 1).error_code is None
    assert [injector.decide("a", 9).error_code for _ in range(4)] == ["ServiceUnavailable"] * 3 + [None]
    assert injector.decide("b", 0).error_code == "RequestLimitExceeded"  # a new session is refused anew
    assert injector.decide("b", None).error_code is None  # Display has no Seq


def test_refusals_parse_and_round_trip_through_the_admin_form() -> None:
    assert Refusal.parse("0:4") == Refusal(0, 4, "RequestLimitExceeded")
    assert Refusal.parse(" 12:3:InternalError ") == Refusal(12, 3, "InternalError")
    for bad, says in (
        ("0", "SEQ:TIMES"),
        ("a:1", "whole numbers"),
        ("0:0", "times >= 1"),
        ("0:1:a b", "code"),
    ):
        with pytest.raises(ValueError, match=says):
            Refusal.parse(bad)
    config = FaultConfig(refusals=(Refusal(0, 4), Refusal(7, 2, "InternalError")))
    assert config.to_json()["refusals"] == ["0:4:RequestLimitExceeded", "7:2:InternalError"]
    assert FaultConfig.from_json(config.to_json()) == config
    assert config.active
    with pytest.raises(ValueError, match="refusals must be a list"):
        FaultConfig.from_json({"refusals": [[0, 4]]})

"""The emulated engine's session rules, with an injected clock: Seq order, idempotent retries, short and long
packets, 1:1 pacing, the 6-second gap, IsEnd, and the sentences it reports."""

from __future__ import annotations

import base64
import io
import wave

import pytest

from tongchuan_tui.emulator.codes import ApiFailure
from tongchuan_tui.emulator.cues import CueScript
from tongchuan_tui.emulator.engine import Engine
from tongchuan_tui.emulator.sentences import Sentence
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.validate import TtsParams, Upload

PACKET = b"\x01\x00" * 3200  # 200 ms
CUES = CueScript.from_json(
    [
        {"start_ms": 0, "end_ms": 1000, "source": "你好世界", "target": "Hello world"},
        {"start_ms": 1200, "end_ms": 2000, "source": "再见", "target": "Goodbye"},
    ]
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_764_000_000.0

    def __call__(self) -> float:
        return self.now


def upload(seq: int, data: bytes = PACKET, *, session: str = "s", end: bool = False, tt: int = 2) -> Upload:
    return Upload(session, "zh", "en", seq, 0, end, tt, data)


def code_of(call: object) -> str:
    assert isinstance(call, ApiFailure)
    return call.code


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(clock: FakeClock) -> Engine:
    return Engine(clock=clock, cues=CUES)


def send(engine: Engine, clock: FakeClock, seqs: range, **kw: object) -> list[Sentence]:
    """Upload `seqs` at 1:1 pacing; the last result."""
    result: list[Sentence] = []
    for seq in seqs:
        result = engine.upload("id", upload(seq, **kw))  # type: ignore[arg-type]
        clock.now += 0.2
    return result


def failure(engine: Engine, item: Upload, secret_id: str = "id") -> ApiFailure:
    with pytest.raises(ApiFailure) as info:
        engine.upload(secret_id, item)
    return info.value


def test_a_new_session_must_start_at_seq_0(engine: Engine) -> None:
    assert failure(engine, upload(1)).code == "InvalidParameterValue"


def test_a_gap_in_seq_is_refused(engine: Engine, clock: FakeClock) -> None:
    send(engine, clock, range(2))
    assert "expected 2, got 3" in failure(engine, upload(3)).message
    assert engine.snapshot()[0].seqs == [0, 1]


def test_a_retried_seq_with_the_same_data_is_idempotent(engine: Engine, clock: FakeClock) -> None:
    first = send(engine, clock, range(3))
    again = engine.upload("id", upload(2))
    assert again == first
    snap = engine.snapshot()[0]
    assert snap.seqs == [0, 1, 2]
    assert snap.audio_ms == 600
    assert [p.retried for p in snap.packets] == [0, 0, 1]


def test_a_retried_seq_with_different_data_is_refused(engine: Engine, clock: FakeClock) -> None:
    send(engine, clock, range(3))
    assert failure(engine, upload(1, b"\x02\x00" * 3200)).code == "InvalidParameterValue"


def test_short_packets_are_dropped_and_counted_long_ones_counted(engine: Engine, clock: FakeClock) -> None:
    engine.upload("id", upload(0, b"\x00" * 6398))
    clock.now += 0.2
    engine.upload("id", upload(1, b"\x00" * 16_002))
    snap = engine.snapshot()[0]
    assert (snap.dropped_short, snap.oversize, snap.audio_ms) == (1, 1, 500)
    assert [p.dropped for p in snap.packets] == [True, False]


def test_sending_faster_than_real_time_fails_the_session(engine: Engine, clock: FakeClock) -> None:
    for seq in range(3):  # 600 ms in an instant: the third packet starts 400 ms ahead, within tolerance
        engine.upload("id", upload(seq))
    error = failure(engine, upload(3))
    assert error.code == "FailedOperation"
    assert "faster than real time" in error.message
    clock.now += 5
    assert failure(engine, upload(3)).code == "FailedOperation"
    snap = engine.snapshot()[0]
    assert [(v.seq, round(v.amount_ms)) for v in snap.pacing_violations] == [(3, 600)]
    assert snap.failed is not None


def test_one_to_one_pacing_with_a_slow_first_request_passes(engine: Engine, clock: FakeClock) -> None:
    engine.upload("id", upload(0))
    clock.now += (
        0.05  # the next ones are on the sender's schedule, which started 0.15 s before packet 0 arrived
    )
    for seq in range(1, 20):
        engine.upload("id", upload(seq))
        clock.now += 0.2
    assert engine.snapshot()[0].pacing_violations == ()


def test_more_than_six_seconds_between_packets_fails_the_session(engine: Engine, clock: FakeClock) -> None:
    send(engine, clock, range(2))
    clock.now += 6.0  # 6.2 s since packet 1
    assert failure(engine, upload(2)).code == "FailedOperation"
    clock.now += 0.2
    assert failure(engine, upload(2)).code == "FailedOperation"
    snap = engine.snapshot()[0]
    assert [(v.seq, round(v.amount_ms)) for v in snap.gap_violations] == [(2, 6200)]


def test_exactly_six_seconds_is_still_allowed(engine: Engine, clock: FakeClock) -> None:
    send(engine, clock, range(1))
    clock.now += 5.8
    engine.upload("id", upload(1))
    assert engine.snapshot()[0].failed is None


def test_after_is_end_new_packets_fail_but_the_end_packet_may_be_retried(
    engine: Engine, clock: FakeClock
) -> None:
    send(engine, clock, range(2))
    engine.upload("id", upload(2, end=True))
    assert engine.upload("id", upload(2, end=True))
    assert failure(engine, upload(3)).code == "FailedOperation"
    snap = engine.snapshot()[0]
    assert snap.ended
    assert snap.packets[-1].retried == 1


def test_languages_must_not_change_within_a_session(engine: Engine) -> None:
    engine.upload("id", upload(0))
    changed = Upload("s", "zh", "ja", 1, 0, False, 2, PACKET)
    assert failure(engine, changed).code == "InvalidParameterValue"


def test_cued_sentences_grow_with_rising_sever_and_end_final(engine: Engine, clock: FakeClock) -> None:
    seen: list[Sentence] = []
    for seq in range(11):
        seen += engine.upload("id", upload(seq))
        clock.now += 0.2
    first = [s for s in seen if s.se_id == 0]
    versions = [s.se_ver for s in first]
    assert versions == sorted(versions)
    # One SeVer per distinct content: the version rises exactly when the sentence changes.
    assert (
        len(set(versions)) == len({(s.source_text, s.target_text, s.end_time, s.is_end) for s in first}) > 3
    )
    assert first[0].source_text == "你"
    assert first[-1].is_end
    assert (first[-1].source_text, first[-1].target_text) == ("你好世界", "Hello world")
    assert (first[-1].start_time, first[-1].end_time) == (0, 1000)
    finals = [(s.source_text, s.target_text) for s in engine.snapshot()[0].sentences if s.is_end]
    assert finals == [("你好世界", "Hello world"), ("再见", "Goodbye")]


def test_results_are_newest_first_and_at_most_five(clock: FakeClock) -> None:
    many = CueScript.from_json(
        [
            {"start_ms": i * 200, "end_ms": i * 200 + 100, "source": f"句{i}", "target": f"S{i}"}
            for i in range(8)
        ]
    )
    engine = Engine(clock=clock, cues=many)
    result = send(engine, clock, range(8))
    assert [s.se_id for s in result] == [7, 6, 5, 4, 3]
    assert engine.display("id", "s") == result
    assert engine.display("id", "unknown") == []
    assert engine.display("other-id", "s") == []


def test_the_cue_timeline_continues_across_sessions_of_one_credential(
    engine: Engine, clock: FakeClock
) -> None:
    send(engine, clock, range(3), session="a")  # 600 ms: into the first cue
    clock.now += 1
    send(engine, clock, range(7), session="b", end=False)
    a, b = engine.snapshot()
    assert [s.source_text for s in a.sentences] == ["你好世"]
    # Session b starts at 600 ms of the timeline: the second cue (1200 ms) is at 600 ms of b's audio.
    assert [(s.source_text, s.start_time, s.end_time, s.is_end) for s in b.sentences] == [
        ("再见", 600, 1400, True)
    ]
    # Another credential has its own timeline, from the start.
    engine.upload("other-id", upload(0, session="c"))
    assert engine.display("other-id", "c")[0].source_text == "你"


def test_loop_cues_wraps_the_timeline(clock: FakeClock) -> None:
    engine = Engine(
        clock=clock, cues=CueScript.from_json({"duration_ms": 2000, "cues": CUES_JSON}), loop_cues=True
    )
    send(engine, clock, range(25))
    finals = [s.source_text for s in engine.snapshot()[0].sentences if s.is_end]
    assert finals == ["你好世界", "再见"] * 2 + ["你好世界"]


CUES_JSON = [
    {"start_ms": 0, "end_ms": 1000, "source": "你好世界", "target": "Hello world"},
    {"start_ms": 1200, "end_ms": 2000, "source": "再见", "target": "Goodbye"},
]


def test_is_end_finalises_a_sentence_still_growing(engine: Engine, clock: FakeClock) -> None:
    send(engine, clock, range(2))
    result = engine.upload("id", upload(2, end=True))
    assert [(s.source_text, s.target_text, s.is_end) for s in result] == [("你好世", "Hello world", True)]


def test_without_cues_speech_is_answered_with_placeholders(clock: FakeClock) -> None:
    engine = Engine(clock=clock)
    pcm = speech_like_pcm(2400, [(400, 1600)], seed=7)
    for seq in range(12):
        engine.upload("id", Upload("s", "en", "zh", seq, 0, seq == 11, 2, pcm[seq * 6400 : (seq + 1) * 6400]))
        clock.now += 0.2
    (sentence,) = engine.snapshot()[0].sentences
    assert sentence.is_end
    assert sentence.source_text.startswith("[speech 1: 1.")
    assert sentence.target_text.startswith("[语音 1: 1.")


def test_sessions_asking_for_tts_get_audio_with_final_sentences(engine: Engine, clock: FakeClock) -> None:
    for seq in range(7):  # 1400 ms: the first cue is over, the second has begun
        engine.upload("id", Upload("tts", "zh", "en", seq, 0, False, 2, PACKET, TtsParams("wav", 8000)))
        clock.now += 0.2
    (final, growing) = engine.snapshot()[0].sentences
    assert (final.is_end, growing.is_end, growing.audio) == (True, False, None)
    assert final.audio is not None
    with wave.open(io.BytesIO(base64.b64decode(final.audio))) as clip:
        assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (8000, 1, 2)
        assert clip.getnframes() > 0

"""StartTime/EndTime have no documented unit: calibrated per service session against the audio sent."""

from __future__ import annotations

import pytest

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.timing import UnitCalibration
from tongchuan_tui.pipeline.transcript import Transcript


def deliver(t: Transcript, index: int, upto_ms: int, offset_ms: int = 0) -> None:
    """The scheduler's part: 200 ms packets of service session `index` delivered up to `upto_ms`."""
    timeline = t.timeline_map(index)
    for service_ms in range(0, upto_ms, 200):
        timeline.add(service_ms, offset_ms + service_ms)


def said(
    se_id: str, start_ms: int, end_ms: int, unit_ms: int, *, final: bool = False, ver: int = 1
) -> DisplayInfo:
    return DisplayInfo(
        se_id, ver, f"src {se_id}", f"tgt {se_id}", start_ms // unit_ms, end_ms // unit_ms, final
    )


@pytest.mark.parametrize("unit_ms", [1, 10, 1000])
def test_each_unit_is_recognised_from_the_audio_sent(unit_ms: int) -> None:
    t = Transcript()
    t.open_session(0, 5000)
    spoken = [("a", 300, 2900), ("b", 3400, 6100), ("c", 6800, 9000)]
    for se_id, start, end in spoken:
        deliver(t, 0, end + 1200, offset_ms=5000)
        t.apply(0, [said(se_id, start, end, unit_ms, final=True)])
    placed = [(s.se_id, s.start_ms, s.raw_start, s.unit_ms) for s in t.sentences()]
    assert [p[0] for p in placed] == ["a", "b", "c"]
    for (_, start_ms, raw, unit), (_, start, _) in zip(placed, spoken, strict=True):
        assert abs(start_ms - (5000 + start)) < 1000
        assert raw == start // unit_ms, "the raw value is kept as sent"
        assert unit == unit_ms


def test_a_unit_is_ruled_out_only_by_a_time_beyond_the_audio_sent() -> None:
    units = UnitCalibration()
    assert units.unit_ms == 1, "no evidence yet: milliseconds"
    assert units.observe(0, 400)
    assert units.unit_ms == 1000, "0 fits every unit; the largest is kept until ruled out"
    assert units.observe(3, 4000)  # 3 s fits, 30 ms fits, 3 ms fits
    assert units.unit_ms == 1000
    assert units.observe(350, 4000)  # 350 s is far beyond 4 s of audio; 3.5 s fits
    assert units.unit_ms == 10
    assert not units.observe(10**9, 4000), "fits no unit: an outlier"
    assert units.unit_ms == 10, "an outlier does not rule out the unit everything else fits"


def test_open_sentences_move_when_the_unit_is_learned_later() -> None:
    t = Transcript()
    t.open_session(0, 0)
    deliver(t, 0, 600)
    # ms, but too early to tell: 0..1 fits seconds too.
    t.apply(0, [said("a", 0, 1, 1)])
    assert t.sentences()[0].end_ms == 1000
    deliver(t, 0, 3000)
    changed = t.apply(0, [said("a", 0, 1, 1, ver=1), said("b", 2100, 2800, 1)])
    assert t.unit_ms(0) == 1
    a = next(s for s in changed if s.se_id == "a")
    assert a.end_ms == 1, "re-placed with the unit learned since"


def test_times_that_fit_no_unit_are_replaced_by_what_the_client_saw() -> None:
    t = Transcript()
    t.open_session(0, 10_000)
    deliver(t, 0, 4000, offset_ms=10_000)
    # Epoch milliseconds, say: no unit puts that within 4 s of audio.
    (s,) = t.apply(0, [DisplayInfo("x", 1, "a", "b", 1_764_000_000_000, 1_764_000_002_000, False)])
    assert s.unit_ms == 0
    assert 10_000 <= s.start_ms <= 14_000, "placed where the client first saw it"
    assert s.raw_start == 1_764_000_000_000, "the raw value is still kept"
    deliver(t, 0, 6000, offset_ms=10_000)
    (s,) = t.apply(0, [DisplayInfo("x", 2, "a b", "b c", 1_764_000_000_000, 1_764_000_004_000, True)])
    assert (s.unit_ms, s.final) == (0, True)
    assert s.end_ms >= 15_000


def test_a_sentence_reported_long_after_the_time_it_claims_is_placed_as_seen() -> None:
    t = Transcript()
    t.open_session(0, 0)
    deliver(t, 0, 30_000)
    # Never filled in: 0/0 on a sentence that first shows up after 30 s of audio.
    (s,) = t.apply(0, [DisplayInfo("late", 1, "a", "b", 0, 0, True)])
    assert s.unit_ms == 0
    assert s.start_ms >= 25_000


def test_each_service_session_is_calibrated_on_its_own() -> None:
    t = Transcript()
    t.open_session(0, 0)
    t.open_session(1, 20_000)
    deliver(t, 0, 5000)
    deliver(t, 1, 5000, offset_ms=20_000)
    t.apply(0, [said("a", 1000, 4000, 1, final=True)])
    t.apply(1, [said("a", 1000, 4000, 1000, final=True)])
    assert (t.unit_ms(0), t.unit_ms(1)) == (1, 1000)
    assert [(s.key, s.start_ms) for s in t.sentences()] == [("0:a", 1000), ("1:a", 21_000)]

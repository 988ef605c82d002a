"""Sentence assembly: merge by SeId, stale SeVer ignored, final on IsEnd, timeline placement, the window."""

from __future__ import annotations

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.transcript import TimelineMap, Transcript


def info(
    se_id: int | str, ver: int, text: str = "", *, start: int = 0, end: int = 0, final: bool = False
) -> DisplayInfo:
    return DisplayInfo(str(se_id), ver, text or f"s{se_id}v{ver}", f"t{se_id}v{ver}", start, end, final)


def test_versions_merge_by_se_id_and_stale_ones_are_ignored() -> None:
    t = Transcript()
    t.open_session(0, 0)
    assert [s.source_text for s in t.apply(0, [info(1, 1)])] == ["s1v1"]
    assert [s.source_text for s in t.apply(0, [info(1, 3)])] == ["s1v3"]
    assert t.apply(0, [info(1, 2)]) == []  # older
    assert t.apply(0, [info(1, 3, "different")]) == []  # same version
    assert [s.source_text for s in t.sentences()] == ["s1v3"]


def test_a_new_version_with_the_same_content_is_not_a_revision() -> None:
    t = Transcript()
    t.apply(0, [DisplayInfo("1", 1, "same", "same", 10, 20, False)])
    assert t.apply(0, [DisplayInfo("1", 2, "same", "same", 10, 20, False)]) == []
    assert t.sentences()[0].se_ver == 2


def test_is_end_makes_a_sentence_final_and_it_never_changes_again() -> None:
    t = Transcript()
    t.apply(0, [info(1, 1)])
    changed = t.apply(0, [info(1, 2, final=True)])
    assert [(s.source_text, s.final) for s in changed] == [("s1v2", True)]
    assert t.apply(0, [info(1, 3, "rewritten", final=True)]) == []
    assert t.sentences()[0].source_text == "s1v2"


def test_times_are_placed_on_the_session_timeline_by_service_session() -> None:
    t = Transcript()
    t.open_session(0, 0)
    t.open_session(1, 12_000)
    t.apply(0, [info(1, 1, start=500, end=1500)])
    t.apply(1, [info(1, 1, start=200, end=900)])
    placed = [(s.key, s.start_ms, s.end_ms) for s in t.sentences()]
    assert placed == [("0:1", 500, 1500), ("1:1", 12_200, 12_900)]


def test_timeline_map_accounts_for_audio_dropped_inside_a_service_session() -> None:
    m = TimelineMap(1000)
    m.add(0, 1000)
    m.add(2000, 3000)  # contiguous: no breakpoint needed
    m.add(4000, 9000)  # 4 s of service audio later, the timeline jumped 4 s ahead (dropped)
    assert [m.to_timeline(x) for x in (0, 1999, 3999, 4000, 4500)] == [1000, 2999, 4999, 9000, 9500]


IDS = ["q7:z", "0c4641e341e5", "α-β", "10", "9", "", "x:y:z", "😀"]
"""Opaque SeIds in the order the sentences were spoken: no order among them as text or as numbers."""


def test_a_final_sentence_is_kept_when_the_window_of_five_moves_past_it() -> None:
    t = Transcript()
    t.apply(0, [info(IDS[i], 2, final=True, start=i * 1000) for i in (2, 1, 0)], polled=True)
    t.apply(0, [info(IDS[i], 1, start=i * 1000) for i in (7, 6, 5, 4, 3)], polled=True)
    assert [s.se_id for s in t.sentences() if s.final] == IDS[:3]
    assert [s.se_id for s in t.sentences()] == IDS


def test_a_non_final_sentence_that_left_a_full_window_is_finalized_as_last_seen() -> None:
    t = Transcript()
    t.apply(0, [info(IDS[1], 4, "half a sentence", start=1000), info(IDS[0], 2, final=True)], polled=True)
    changed = t.apply(0, [info(IDS[i], 1, start=i * 1000) for i in (6, 5, 4, 3, 2)], polled=True)
    finals = [s for s in changed if s.final]
    assert [(s.se_id, s.source_text) for s in finals] == [(IDS[1], "half a sentence")]


def test_a_full_window_finalizes_only_what_appeared_before_all_of_it() -> None:
    t = Transcript()
    t.apply(0, [info("old", 1, start=0)])
    t.apply(0, [info("w0", 1, start=100)])
    t.apply(0, [info("late", 1, start=200)])
    t.apply(0, [info(f"w{i}", 1, start=300 + i) for i in range(1, 5)])
    # A window of five without "old" and "late": only "old" appeared before every one of them.
    changed = t.apply(0, [info(f"w{i}", 2, start=300 + i) for i in range(5)])
    assert [s.se_id for s in changed if s.final] == ["old"]
    assert "late" in {s.se_id for s in t.open_sentences()}


def test_sentences_first_seen_in_one_poll_are_ordered_oldest_first_whatever_their_ids() -> None:
    t = Transcript()
    # Display is newest first; equal start times (e.g. StartTime in seconds) keep the spoken order.
    t.apply(0, [info("b", 1, start=3), info("a", 1, start=3), info("c", 1, start=2)], polled=True)
    assert [s.se_id for s in t.sentences()] == ["c", "a", "b"]


def test_a_window_that_is_not_full_does_not_finalize_missing_sentences() -> None:
    t = Transcript()
    t.apply(0, [info(1, 1)])
    t.apply(0, [info(2, 1)])
    assert not t.sentences()[0].final


def test_closing_a_service_session_finalizes_only_its_open_sentences() -> None:
    t = Transcript()
    t.open_session(0, 0)
    t.open_session(1, 5000)
    t.apply(0, [info(1, 1, "open in 0")])
    t.apply(1, [info(1, 1, "open in 1")])
    changed = t.close_session(0)
    assert [(s.key, s.source_text, s.final) for s in changed] == [("0:1", "open in 0", True)]
    assert [s.key for s in t.open_sentences()] == ["1:1"]
    assert [s.key for s in t.close_all()] == ["1:1"]
    assert t.close_all() == []

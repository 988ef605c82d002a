"""The UI's Textual-free parts: the model the sink updates, wrapping, row layout, advice, header text."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tongchuan_tui import exitcodes
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    LevelMeasured,
    MarkAdded,
    Paused,
    RequestFailed,
    RequestRetried,
    Resumed,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    WarningRaised,
)
from tongchuan_tui.ui.advice import advice_for_end, advice_for_failure
from tongchuan_tui.ui.model import TranscriptModel, UiModel
from tongchuan_tui.ui.rows import (
    KIND_ALIGNED,
    KIND_INTERLEAVED,
    KIND_LARGE,
    PLACEHOLDER,
    Damage,
    TranscriptRows,
)
from tongchuan_tui.ui.text import HOUR_MS, billable_minutes, format_elapsed, format_timestamp, wrap_cells
from tongchuan_tui.ui.widgets.header import EMULATOR_BADGE, HeaderInfo, header_text


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def make(
    index: int, ver: int = 1, *, final: bool = False, source: str = "源", target: str = "target"
) -> Sentence:
    return Sentence(f"0:{index}", 0, str(index), ver, source, target, index * 1000, index * 1000 + 900, final)


STARTED = SessionStarted(0.0, "file:a.wav", "zh", "en", "sync", 200, "127.0.0.1:1", True)


# -- transcript --------------------------------------------------------------------------------------


def test_keeps_the_highest_revision_in_order_of_first_appearance() -> None:
    model = TranscriptModel()
    model.revise(make(1, 1, source="大"))
    model.revise(make(2, 1, source="二"))
    model.revise(make(1, 3, source="大家好"))
    model.revise(make(1, 2, source="大家"))  # late, older revision
    assert [(s.key, s.source_text) for s in model.sentences()] == [("0:1", "大家好"), ("0:2", "二")]


def test_a_final_sentence_never_goes_back_to_draft() -> None:
    model = TranscriptModel()
    model.revise(make(1, 4, final=True, source="完"))
    assert not model.revise(make(1, 5, final=False, source="又"))
    assert model.sentences()[0].source_text == "完"


def test_repeated_revisions_do_not_count_as_changes() -> None:
    model = TranscriptModel()
    assert model.revise(make(1, 1))
    generation = model.generation
    assert not model.revise(make(1, 1))
    assert model.generation == generation


def test_bounded_to_the_newest_sentences() -> None:
    model = TranscriptModel(limit=100)
    for index in range(1000):
        model.revise(make(index))
    kept = model.sentences()
    assert len(kept) == 100
    assert kept[0].se_id == "900"
    assert kept[-1].se_id == "999"
    assert model.evicted == 900


# -- the UI model ------------------------------------------------------------------------------------


def test_state_follows_the_session() -> None:
    clock = Clock()
    model = UiModel(clock=clock)
    assert model.state == "starting"
    model.apply(STARTED)
    assert model.state == "live"
    model.apply(Paused(1000))
    assert model.state == "paused"
    model.apply(Resumed(1000))
    assert model.state == "live"
    clock.now += 65
    model.apply(SessionEnded("stopped", 5000, 0))
    clock.now += 100
    assert model.state == "ended"
    assert model.elapsed_s() == 65  # frozen once ended


def test_sentences_do_not_bump_the_stats_generation() -> None:
    model = UiModel(clock=Clock())
    generation = model.generation
    model.apply(SentenceRevised(make(1)))
    assert model.generation == generation
    assert model.transcript.generation == 1


def test_clipping_warning_holds_then_clears() -> None:
    clock = Clock()
    model = UiModel(clock=clock)
    model.apply(LevelMeasured(-1.0, 0.0, True, 0))
    model.apply(LevelMeasured(-20.0, -10.0, False, 0))
    assert model.clipping()
    clock.now += 3
    assert not model.clipping()


def test_long_silence_warning() -> None:
    model = UiModel(clock=Clock())
    model.apply(LevelMeasured(-80.0, -70.0, False, 9_000))
    assert not model.long_silence()
    model.apply(LevelMeasured(-80.0, -70.0, False, 12_000))
    assert model.long_silence()


def test_a_run_of_failures_is_one_notice_and_a_counted_trouble_until_a_packet_gets_through() -> None:
    clock = Clock()
    model = UiModel(clock=clock, notice_interval_s=5)
    for seq in range(30):
        model.apply(RequestRetried("TongChuanSync", seq, 1, "InternalError", "oops", 500))
    model.apply(WarningRaised("journal not writable", "journal"))
    assert [n.text for n in model.take_notices()] == [
        "InternalError: retrying — oops",
        "journal not writable",
    ]
    assert model.trouble is not None
    assert (model.trouble.code, model.trouble.count) == ("InternalError", 30)
    clock.now += 5
    model.apply(RequestRetried("TongChuanSync", 31, 1, "InternalError", "oops", 500))
    assert model.take_notices() == []
    model.apply(ChunkSent(31, "u", 0, 200, 6400, 0, 80.0, "r", 31, False))
    assert model.trouble is None
    assert [n.text for n in model.take_notices()] == ["Recovered after 31 failed attempts (InternalError)."]


def test_marks_are_confirmed_and_counted() -> None:
    model = UiModel(clock=Clock())
    model.apply(MarkAdded(3_723_000, "applause"))
    assert model.marks == 1
    assert [n.text for n in model.take_notices()] == ["Marked 1:02:03 “applause”"]


def test_only_the_first_final_failure_is_kept() -> None:
    model = UiModel(clock=Clock())
    model.apply(RequestFailed("TongChuanSync", 1, "InternalError", "x", False))
    assert model.fatal is None
    first = RequestFailed("TongChuanSync", 2, "AuthFailure.SecretIdNotFound", "no such id", True)
    model.apply(first)
    model.apply(RequestFailed("TongChuanSync", 3, "InvalidParameterValue", "y", True))
    assert model.fatal == first


# -- text --------------------------------------------------------------------------------------------


def test_formats() -> None:
    assert format_timestamp(83_999) == "01:23"
    assert format_timestamp(3_600_000) == "1:00:00"
    assert format_elapsed(754.9) == "0:12:34"
    assert billable_minutes(0) == 0
    assert billable_minutes(60_000) == 1
    assert billable_minutes(60_001) == 2


def test_wraps_cjk_by_cells_and_english_by_words() -> None:
    assert wrap_cells("大家好欢迎", 6) == ("大家好", "欢迎")
    assert wrap_cells("Hello everyone and welcome", 14) == ("Hello everyone", "and welcome")
    assert wrap_cells("", 10) == ("",)


def test_closing_punctuation_never_starts_a_line() -> None:
    assert wrap_cells("大家好，欢迎", 6) == ("大家", "好，欢", "迎")


def test_overlong_words_are_cut() -> None:
    assert wrap_cells("abcdefghij", 4) == ("abcd", "efgh", "ij")


@given(st.text(alphabet=st.sampled_from(list("ab 大家好，。 Hello")), max_size=80), st.integers(2, 30))
def test_wrapped_lines_fit_and_keep_every_visible_character(text: str, width: int) -> None:
    lines = wrap_cells(text, width)
    assert all(cell_len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


# -- rows --------------------------------------------------------------------------------------------


def test_aligned_rows_take_the_taller_text() -> None:
    rows = TranscriptRows()
    sentences = [make(0, final=True, source="短", target="a much longer translation"), make(1, final=True)]
    rows.rebuild(sentences, kind=KIND_ALIGNED, source_width=12, target_width=12, final_only=False)
    assert [row.height for row in rows.rows] == [3, 1]
    assert rows.tops == [0, 3]
    assert rows.total_lines == 4
    located = rows.locate(2)
    assert located is not None
    assert (located[0].sentence.se_id, located[1]) == ("0", 2)
    located = rows.locate(3)
    assert located is not None
    assert located[0].sentence.se_id == "1"
    assert rows.locate(4) is None


def test_drafts_carry_their_revision_and_final_only_holds_translations_back() -> None:
    rows = TranscriptRows()
    rows.rebuild(
        [make(0, 3, final=False, source="下面")],
        kind=KIND_ALIGNED,
        source_width=20,
        target_width=20,
        final_only=True,
    )
    row = rows.rows[0]
    assert row.source == ("下面 v3",)
    assert row.target == (PLACEHOLDER,)


def test_interleaved_and_large_layouts() -> None:
    rows = TranscriptRows()
    sentences = [make(0, final=True, target="Hi"), make(1, final=False, target="Draft")]
    rows.rebuild(sentences, kind=KIND_INTERLEAVED, source_width=20, target_width=20, final_only=False)
    assert [row.height for row in rows.rows] == [2, 2]
    rows.rebuild(sentences, kind=KIND_LARGE, source_width=20, target_width=20, final_only=True)
    assert [row.target for row in rows.rows] == [("Hi",)]  # drafts are not shown to the audience at all
    assert rows.total_lines == 2  # the line and a blank after it


def test_unchanged_sentences_are_not_rewrapped() -> None:
    rows = TranscriptRows()
    sentences = [make(i, final=True, source="大家好" * 10) for i in range(50)]
    rows.rebuild(sentences, kind=KIND_ALIGNED, source_width=12, target_width=12, final_only=False)
    first = rows.rows[0].source
    rows.rebuild(
        [*sentences, make(50)], kind=KIND_ALIGNED, source_width=12, target_width=12, final_only=False
    )
    assert rows.rows[0].source is first
    assert rows.tops[-1] == 50 * len(first)
    # A revision that changes only the translation keeps the source's wrapping.
    revised = dataclasses.replace(sentences[0], se_ver=9, target_text="new")
    rows.rebuild(
        [revised, *sentences[1:]], kind=KIND_ALIGNED, source_width=12, target_width=12, final_only=False
    )
    assert rows.rows[0].source is first
    assert rows.rows[0].target == ("new",)
    rows.rebuild(sentences, kind=KIND_ALIGNED, source_width=14, target_width=14, final_only=False)
    assert rows.rows[0].source is not first


# -- advice and header -------------------------------------------------------------------------------


def test_advice_for_a_bad_key_and_a_bad_pair() -> None:
    bad_key = advice_for_failure(
        RequestFailed("TongChuanSync", 0, "AuthFailure.InvalidSecretId", "bad", True)
    )
    assert "TENCENTCLOUD_SECRET_ID" in bad_key.action
    bad_pair = advice_for_failure(
        RequestFailed("TongChuanSync", 0, "InvalidParameterValue", "bad target", True)
    )
    assert "zh → en/ja/ko/yue" in bad_pair.action
    unreachable = advice_for_end(SessionEnded("failed", 0, exitcodes.SERVICE_UNREACHABLE))
    assert "network" in unreachable.action


def test_header_keeps_the_emulator_badge_and_the_state_at_80_columns() -> None:
    info = HeaderInfo(
        "zh", "en", "url:https://example.com/" + "x" * 100, "127.0.0.1:9", True, False, "live", "0:00:05"
    )
    text = header_text(info, 80).plain
    assert cell_len(text) == 80
    assert EMULATOR_BADGE in text
    assert text.rstrip().endswith("● live 0:00:05")


# -- incremental rows ----------------------------------------------------------------------------------


def _synced(model: TranscriptModel, kind: str = KIND_ALIGNED, final_only: bool = False) -> TranscriptRows:
    rows = TranscriptRows()
    rows.rebuild(
        model.sentences(),
        kind=kind,
        source_width=12,
        target_width=12,
        final_only=final_only,
        generation=model.generation,
        first_ordinal=model.evicted,
    )
    return rows


def _screen(rows: TranscriptRows) -> list[tuple[object, ...]]:
    """What each line shows: its sentence, the row's wrapping, and which of the row's lines it is."""
    lines: list[tuple[object, ...]] = []
    for line in range(rows.total_lines):
        located = rows.locate(line)
        assert located is not None
        row, index = located
        lines.append((row.sentence, row.source, row.target, index))
    return lines


def test_revising_the_tail_rewraps_only_that_row() -> None:
    model = TranscriptModel()
    for index in range(50):
        model.revise(make(index, final=True, source="大家好" * 3))
    model.revise(make(50, 1, source="下面"))
    rows = _synced(model)
    before = rows.rows
    total = rows.total_lines
    # A longer revision of the newest sentence: one more line, at the end.
    model.revise(make(50, 2, source="下面我们看一下演示"))
    damage = rows.sync(model)
    assert all(new is old for new, old in zip(rows.rows[:50], before[:50], strict=True))
    assert rows.rows[50].source == ("下面我们看一", "下演示 v2")
    assert rows.total_lines == total + 1
    assert damage is not None
    assert damage.start == rows.tops[50]
    # The same height again: only the row's own lines are repainted.
    model.revise(make(50, 3, source="下面我们看一下表演"))
    damage = rows.sync(model)
    assert damage is not None
    assert (damage.start, damage.stop) == (rows.tops[50], rows.total_lines)
    assert rows.sync(model) is None  # nothing new


def _synced_across_the_hour(model: TranscriptModel) -> TranscriptRows:
    """Rows whose source is 12 cells wide, 10 for sentences from the first hour on (a wider timestamp)."""
    rows = TranscriptRows()
    rows.rebuild(
        model.sentences(),
        kind=KIND_ALIGNED,
        source_width=12,
        target_width=12,
        final_only=False,
        source_width_late=10,
        target_width_late=12,
        generation=model.generation,
        first_ordinal=model.evicted,
    )
    return rows


def test_a_sentence_past_the_hour_rewraps_no_row_already_laid_out() -> None:
    model = TranscriptModel()
    for index in range(3):
        model.revise(make(index, final=True, source="大家好" * 3))
    rows = _synced_across_the_hour(model)
    before = rows.rows
    total = rows.total_lines
    assert before[0].source == ("大家好大家好", "大家好")
    model.revise(dataclasses.replace(make(3, final=True, source="大家好" * 3), start_ms=HOUR_MS))
    damage = rows.sync(model)
    assert all(new is old for new, old in zip(rows.rows[:3], before, strict=True))
    assert damage == Damage(total, None)  # only the new row's lines are painted
    assert rows.rows[3].source == ("大家好大家", "好大家好")


def test_a_revision_moving_its_start_past_the_hour_is_rewrapped_for_it() -> None:
    model = TranscriptModel()
    model.revise(dataclasses.replace(make(0, 1, source="大家好" * 3), start_ms=HOUR_MS - 1))
    rows = _synced_across_the_hour(model)
    assert rows.rows[0].source == ("大家好大家好", "大家好 v1")
    model.revise(dataclasses.replace(make(0, 2, final=True, source="大家好" * 3), start_ms=HOUR_MS))
    rows.sync(model)
    assert rows.rows[0].source == ("大家好大家", "好大家好")


def test_evicting_sentences_moves_every_line() -> None:
    model = TranscriptModel(limit=3)
    for index in range(3):
        model.revise(make(index, final=True))
    rows = _synced(model)
    model.revise(make(3, final=True))
    damage = rows.sync(model)
    assert damage is not None
    assert (damage.start, damage.stop) == (0, None)
    assert [row.sentence.se_id for row in rows.rows] == ["1", "2", "3"]
    assert rows.tops == [0, 1, 2]


_TEXTS = st.sampled_from(
    ["", "短", "大家好", "大家好，欢迎来到今天的发布会", "Hi", "a much longer translation"]
)


@st.composite
def _steps(draw: st.DrawFn) -> list[list[tuple[int, int, bool, str, str]]]:
    """Batches of revisions (sentence, version, final, source, target) between two syncs."""
    batches = []
    for _ in range(draw(st.integers(1, 12))):
        batch = draw(
            st.lists(
                st.tuples(st.integers(0, 14), st.integers(1, 6), st.booleans(), _TEXTS, _TEXTS), max_size=8
            )
        )
        batches.append(batch)
    return batches


@given(
    _steps(),
    st.sampled_from([KIND_ALIGNED, KIND_INTERLEAVED, KIND_LARGE]),
    st.booleans(),
    st.integers(1, 8),
)
def test_syncing_matches_laying_out_from_scratch(
    batches: list[list[tuple[int, int, bool, str, str]]], kind: str, final_only: bool, limit: int
) -> None:
    model = TranscriptModel(limit=limit)
    rows = _synced(model, kind, final_only)
    for batch in batches:
        before = _screen(rows)
        for index, ver, final, source, target in batch:
            model.revise(make(index, ver, final=final, source=source, target=target))
        damage = rows.sync(model)
        fresh = _synced(model, kind, final_only)
        assert [(r.sentence, r.source, r.target, r.height) for r in rows.rows] == [
            (r.sentence, r.source, r.target, r.height) for r in fresh.rows
        ]
        assert rows.tops == fresh.tops
        assert rows.total_lines == fresh.total_lines
        after = _screen(rows)
        assert after == _screen(fresh)
        # Lines outside the damage show what they showed before.
        for line, shown in enumerate(after):
            if damage is not None and line >= damage.start and (damage.stop is None or line < damage.stop):
                continue
            assert line < len(before)
            assert shown == before[line]
        if damage is None:
            assert after == before


def test_a_dialog_title_names_the_cause() -> None:
    from tongchuan_tui.ui.advice import advice_for_failure

    def title(code: str) -> str:
        return advice_for_failure(RequestFailed("TongChuanSync", None, code, "x", True)).title

    assert title("NetworkError") == "The service could not be reached"
    assert title("TLSError") == "The connection to the service is not trusted"
    assert title("ProtocolError") == "The service's answer could not be understood"
    assert title("AuthFailure.SecretIdNotFound") == "The service rejected the session"

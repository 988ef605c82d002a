"""Rendering bugs found by trying the UI as a user: each test judges what reached the terminal (the
compositor's lines), not what a pane would draw if asked."""

from __future__ import annotations

import base64

import pytest
from textual import events
from textual.widgets._footer import FooterKey

from tests.ui.fakes import ScriptedSession, sentence, started
from tests.ui.ui_helpers import build_app, drawn_lines, wait_until
from tongchuan_tui.pipeline.events import Event, MarkAdded, SessionEnded
from tongchuan_tui.ui.app import InterpreterApp
from tongchuan_tui.ui.screens.help import HelpScreen
from tongchuan_tui.ui.widgets.header import LiveStatus


def long_script(count: int = 60) -> list[Event]:
    return [started(), *(sentence(i, f"第{i}句话。", f"Sentence {i}.") for i in range(count))]


def status(app: InterpreterApp) -> str:
    return str(app.query_one(LiveStatus).render())


def shown(app: InterpreterApp) -> str:
    return "\n".join(drawn_lines(app.target_pane) + drawn_lines(app.source_pane))


async def test_end_after_scrolling_shows_the_tail_at_once_even_after_the_session_ended() -> None:
    session = ScriptedSession(long_script())
    app = build_app(session, layout="side")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        session.finish()
        await wait_until(pilot, lambda: app.model.ended is not None)
        await pilot.pause()
        await pilot.press("pageup", "pageup")
        await wait_until(pilot, lambda: not app.following)
        await pilot.pause()
        assert "Sentence 59." not in shown(app)
        await pilot.press("end")
        await pilot.pause()
        assert "▼ live" in status(app)
        assert "Sentence 59." in shown(app), "End left stale lines on screen"
        assert "第59句话。" in shown(app)


async def test_the_first_wheel_tick_from_the_tail_scrolls_a_little_not_to_the_top() -> None:
    session = ScriptedSession(long_script())
    app = build_app(session, layout="side")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        await pilot.pause()
        tail = app.source_pane.scroll_y
        assert tail > 20
        await pilot._post_mouse_events([events.MouseScrollUp], widget=app.source_pane)
        await pilot.pause()
        assert tail - 5 <= app.source_pane.scroll_y < tail
        assert "Sentence 0." not in shown(app)


async def test_cycling_from_translation_only_to_side_by_side_keeps_following_the_tail() -> None:
    def wordy(i: int) -> Event:
        return sentence(i, f"第{i}句话。" * 3, f"Sentence {i}. " * 4)

    session = ScriptedSession([started(), *(wordy(i) for i in range(30))])
    app = build_app(session, layout="stacked")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0)
        count = 30
        for layout in ("interleaved", "translation", "side"):
            await pilot.press("l")
            assert app.resolved_layout() == layout
            for _ in range(10):  # sentences keep coming while the layout changes, as in a live session
                session.emit(wordy(count))
                count += 1
                await pilot.pause()
            assert app.following, f"following lost on cycling to {layout}"
        last = f"Sentence {count - 1}."
        await wait_until(pilot, lambda: last in shown(app))
        assert "00:00" not in shown(app)


async def test_new_sentences_below_are_counted_while_scrolled() -> None:
    session = ScriptedSession(long_script())
    app = build_app(session, layout="side")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        await pilot.press("pageup")
        await wait_until(pilot, lambda: not app.following)
        session.emit(sentence(60, "新的一句。", "A new sentence."))
        session.emit(sentence(61, "又一句。", "Another one."))
        await wait_until(pilot, lambda: "2 new below" in status(app))
        await pilot.press("end")
        await wait_until(pilot, lambda: "new below" not in status(app))


def footer(app: InterpreterApp) -> str:
    return " ".join(str(key.render()) for key in app.screen.query(FooterKey))


async def test_footer_hints_follow_the_state() -> None:
    session = ScriptedSession(long_script())
    app = build_app(session, layout="side")
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        await wait_until(pilot, lambda: "Pause" in footer(app))
        assert "Resume" not in footer(app)
        assert "End" not in footer(app)
        await pilot.press("space")
        await wait_until(pilot, lambda: "Resume" in footer(app))
        assert "Pause" not in footer(app)
        await pilot.press("pageup")
        await wait_until(pilot, lambda: "End" in footer(app))
        await pilot.press("end")
        await wait_until(pilot, lambda: "End" not in footer(app))


async def test_the_palette_offers_no_device_switch_where_it_cannot_work() -> None:
    app = build_app(ScriptedSession(long_script(3)))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Switch input device" not in titles
        assert "Mark" in titles


async def test_a_narrow_terminal_shows_the_stats_as_one_line_and_s_toggles_it() -> None:
    app = build_app(ScriptedSession(long_script(3)))
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.query_one("#stats-summary")
        await wait_until(pilot, lambda: "rt now" in str(summary.render()))
        assert summary.display
        assert not app.query_one("#stats").display
        await pilot.press("s")
        assert not summary.display
        await pilot.press("s")
        assert summary.display


async def test_below_the_size_that_works_the_screen_says_so_and_keeps_the_health() -> None:
    app = build_app(ScriptedSession(long_script(3)))
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        notice = app.query_one("#too-small")
        assert notice.display
        assert notice.region.height > 0
        assert "too small" in str(notice.render())
        assert app.query_one("#header").region.height == 1
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.has_class("-too-small"), app.size
        assert notice.region.height == 0


async def test_help_fits_80x24_and_explains_the_screen() -> None:
    app = build_app(ScriptedSession(long_script(3)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        box = app.screen.query_one("#help-box")
        assert box.region.height <= 24
        assert box.virtual_size.height <= box.scrollable_content_region.height, "the help needs scrolling"
        text = "\n".join(app.screen._compositor.render_strips()[y].text for y in range(24))
        for needed in ("v3", "lag", "rt now", "reconnecting", "cyan", "End", "Escape"):
            assert needed in text, needed


async def test_marks_are_flagged_in_the_transcript_and_jumpable() -> None:
    session = ScriptedSession(long_script())
    app = build_app(session, layout="side")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        session.emit(MarkAdded(at_ms=10 * 4000 + 500, label="mark 1"))  # within sentence 10
        session.emit(MarkAdded(at_ms=50 * 4000 + 500, label="mark 2"))  # within sentence 50, on screen
        await wait_until(pilot, lambda: "03:20◆第50句话。" in shown(app))
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: not app.following)
        await pilot.pause()
        assert drawn_lines(app.source_pane)[0].startswith("00:40◆第10句话。")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "03:20◆第50句话。" in drawn_lines(app.source_pane)
        assert "00:40◆第10句话。" not in drawn_lines(app.source_pane)


async def test_a_replay_says_its_marks_are_not_saved_and_shows_the_recorded_duration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notes: list[str] = []
    script = [*long_script(5), SessionEnded("input-ended", 754_000, 0)]
    session = ScriptedSession(script)
    app = build_app(session, replay=True)
    monkeypatch.setattr(app, "notify", lambda message, **_: notes.append(message))
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.model.ended is not None)
        await pilot.pause()
        assert "0:12:34" in str(app.query_one("#header").render())
        session.emit(MarkAdded(at_ms=4000, label=""))
        await wait_until(pilot, lambda: any(n.startswith("Marked") for n in notes))
    assert any("a replay saves no marks" in n for n in notes), notes


async def test_slash_searches_the_transcript_with_next_and_previous() -> None:
    session = ScriptedSession(long_script())
    app = build_app(session, layout="side")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        await pilot.press("slash")
        await pilot.press(*"sentence 1")
        await pilot.press("backspace", "1", "2", "enter")  # typing m, q, space there is text, not a key
        await pilot.pause()
        assert drawn_lines(app.target_pane)[0].strip() == "Sentence 12."
        assert not app.following
        assert app.finder.hits == ["0:12"]
        await pilot.press("slash")
        await pilot.press(*"句话", "enter")
        await pilot.pause()
        assert len(app.finder.hits) == 60
        first = drawn_lines(app.source_pane)[0]
        await pilot.press("n")
        await pilot.pause()
        assert drawn_lines(app.source_pane)[0] != first
        await pilot.press("N")
        await pilot.pause()
        assert drawn_lines(app.source_pane)[0] == first
        assert app.is_running


async def test_c_copies_both_texts_of_a_sentence_with_osc_52(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ScriptedSession(long_script(5))
    app = build_app(session, layout="side")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 5)
        written: list[str] = []
        assert app._driver is not None
        monkeypatch.setattr(app._driver, "write", written.append)
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == "第4句话。\nSentence 4."
        osc = [w for w in written if w.startswith("\x1b]52;c;")]
        assert osc
        assert base64.b64decode(osc[0][len("\x1b]52;c;") : -1]).decode() == "第4句话。\nSentence 4."
        await pilot.press("slash", *"sentence 2", "enter", "c")
        await pilot.pause()
        assert app.clipboard == "第2句话。\nSentence 2."

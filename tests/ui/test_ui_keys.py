"""Pilot tests of every key of the interpreter app, against a scripted session."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette

from tests.ui.fakes import DEVICES, FrozenClock, Recorder, ScriptedSession, demo_script, sentence, started
from tests.ui.ui_helpers import build_app, pane_lines, wait_until
from tongchuan_tui import exitcodes
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    LevelMeasured,
    RequestFailed,
    RequestRetried,
    SessionEnded,
)
from tongchuan_tui.ui.app import InterpreterApp
from tongchuan_tui.ui.screens.error import ErrorDialog
from tongchuan_tui.ui.screens.help import HelpScreen
from tongchuan_tui.ui.screens.pickers import ChoiceScreen
from tongchuan_tui.ui.text import format_timestamp
from tongchuan_tui.ui.widgets.header import LiveStatus, SessionHeader
from tongchuan_tui.ui.widgets.stats import StatsPane


class Notes:
    """Records the app's notifications (text and severity)."""

    def __init__(self, app: InterpreterApp, monkeypatch: pytest.MonkeyPatch) -> None:
        self.items: list[tuple[str, str]] = []
        original = app.notify

        def notify(message: str, **options: object) -> None:
            self.items.append((message, str(options.get("severity", "information"))))
            original(message, **options)  # type: ignore[arg-type]

        monkeypatch.setattr(app, "notify", notify)

    def texts(self) -> list[str]:
        return [text for text, _ in self.items]


def header(app: InterpreterApp) -> str:
    widget = app.query_one(SessionHeader)
    return widget.render().plain


def status(app: InterpreterApp) -> str:
    return app.query_one(LiveStatus).render().plain


async def test_shows_source_and_translation_side_by_side_aligned() -> None:
    session = ScriptedSession(demo_script())
    app = build_app(session)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0)
        await pilot.pause()
        source, target = pane_lines(app.source_pane), pane_lines(app.target_pane)
        assert source[0].startswith("00:00 大家好，欢迎来到今天的发布会。")
        assert target[0].strip() == "Hello everyone, and welcome to today's launch event."
        # Row N starts on the same line in both panes, whichever text wraps to more lines.
        for row, top in zip(app.rows.rows, app.rows.tops, strict=True):
            assert source[top].startswith(format_timestamp(row.sentence.start_ms) + " ")
            shown = [line.strip() for line in target[top : top + len(row.target)]]
            # A translation not yet final is marked in its gutter (not by colour alone).
            marked = [f"›{row.target[0]}", *row.target[1:]] if not row.sentence.final else list(row.target)
            assert shown == marked
            assert [line[6:] for line in source[top : top + len(row.source)]] == list(row.source)
        assert any(len(row.target) > 1 for row in app.rows.rows), "the test needs a wrapped translation"
        # The sentence still being revised shows its revision.
        assert any(line.endswith("下面我们看一下 v2") for line in source)
        assert app.resolved_layout() == "side"
        assert "EMULATOR — not the real service" in header(app)
        assert "file:talk.wav" in header(app)


async def test_narrow_terminal_stacks_the_panes() -> None:
    app = build_app(ScriptedSession(demo_script()))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0)
        assert app.resolved_layout() == "stacked"
        assert app.source_pane.region.y < app.target_pane.region.y
        assert app.source_pane.region.x == app.target_pane.region.x


async def test_space_pauses_and_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ScriptedSession(demo_script())
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "live" in header(app))
        await pilot.press("space")
        assert session.calls == [("pause", "")]
        await wait_until(pilot, lambda: "‖ paused" in header(app))
        await pilot.press("space")
        assert session.calls == [("pause", ""), ("resume", "")]
        await wait_until(pilot, lambda: "● live" in header(app))


async def test_m_marks_the_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ScriptedSession(demo_script())
    session.timeline_ms = 83_000
    app = build_app(session)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("m")
        assert session.calls == [("mark", "mark 1")]
        await wait_until(pilot, lambda: "1 mark" in status(app))
        assert any(text.startswith("Marked 01:23") for text in notes.texts())


async def test_d_without_devices_says_it_is_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(ScriptedSession(demo_script()))
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d")
        assert notes.texts() == ["Switching devices is not available for this input (file:talk.wav)."]
        assert not isinstance(app.screen, ChoiceScreen)


async def test_d_picks_a_device_and_switches_live() -> None:
    recorder = Recorder()
    session = ScriptedSession([started("mic:Built-in Microphone")])
    app = build_app(session, list_devices=lambda: list(DEVICES), switch_device=recorder.switch_device())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        # Keys behind the dialog do not reach the session.
        await pilot.press("m")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: recorder.switched == ["mic:3"])
        assert session.calls == []
        assert not isinstance(app.screen, ChoiceScreen)


async def test_d_reports_a_device_that_cannot_be_used(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(
        switch_error=AudioInputError("device mic:3 is busy: close the other program using it")
    )
    app = build_app(
        ScriptedSession([started()]),
        list_devices=lambda: list(DEVICES),
        switch_device=recorder.switch_device(),
    )
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("escape")
        assert not isinstance(app.screen, ChoiceScreen)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("down", "enter")
        await wait_until(
            pilot, lambda: ("device mic:3 is busy: close the other program using it", "error") in notes.items
        )


async def test_e_exports_and_says_where(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    recorder = Recorder()
    app = build_app(ScriptedSession(demo_script()), export=recorder.export(tmp_path))
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("down", "enter")  # the second format: vtt
        await wait_until(pilot, lambda: recorder.exported == ["vtt"])
        await wait_until(pilot, lambda: f"Exported to {tmp_path / 'session.vtt'}" in notes.texts())


async def test_e_without_journal_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(ScriptedSession(demo_script()))
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        assert notes.texts() == ["Export is not available: this session has no journal."]


async def test_l_cycles_the_layouts() -> None:
    app = build_app(ScriptedSession(demo_script()))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0)
        seen = [app.resolved_layout()]
        for _ in range(4):
            await pilot.press("l")
            await pilot.pause()
            seen.append(app.resolved_layout())
            assert f"layout {seen[-1]}" in status(app)
        assert seen == ["side", "stacked", "interleaved", "translation", "side"]
        await pilot.press("l", "l")  # interleaved: one pane with both languages
        await pilot.pause()
        assert not app.target_pane.display
        lines = pane_lines(app.source_pane)
        assert lines[0].startswith("00:00 大家好")
        assert lines[1].strip() == "Hello everyone, and welcome to today's launch event."
        await pilot.press("l")  # translation only: no source text at all
        await pilot.pause()
        text = "\n".join(pane_lines(app.source_pane))
        assert "Hello everyone" in text
        assert "大家好" not in text


async def test_p_holds_translations_until_final() -> None:
    session = ScriptedSession(
        [started(), sentence(0, "你好", "Hello", final=True), sentence(1, "下面", "Below", final=False)]
    )
    app = build_app(session, layout="side")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 2)
        await pilot.pause()
        assert [line.strip() for line in pane_lines(app.target_pane)[:2]] == ["Hello", "›Below"]
        await pilot.press("p")
        await pilot.pause()
        assert [line.strip() for line in pane_lines(app.target_pane)[:2]] == ["Hello", "›…"]
        assert "final translations only" in status(app)
        session.emit(sentence(1, "下面我们", "Below we", final=True, ver=5))
        await wait_until(pilot, lambda: pane_lines(app.target_pane)[1].strip() == "Below we")


async def test_s_toggles_the_stats_pane() -> None:
    app = build_app(ScriptedSession(demo_script()))
    async with app.run_test(size=(160, 40)) as pilot:
        stats = app.query_one(StatsPane)
        assert stats.display
        await wait_until(pilot, lambda: "p50 118" in str(stats.query_one("#stats-requests").render()))
        await pilot.press("s")
        assert not stats.display
        await pilot.press("s")
        assert stats.display


async def test_scrolling_away_says_so_and_end_returns_to_live() -> None:
    script: list[Event] = [started(), *(sentence(i, f"第{i}句话。", f"Sentence {i}.") for i in range(60))]
    session = ScriptedSession(script)
    app = build_app(session)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 60)
        await pilot.pause()
        assert "Sentence 59." in "\n".join(pane_lines(app.target_pane))
        await pilot.press("pageup")
        await wait_until(pilot, lambda: not app.following)
        assert "scrolled — End to return to live" in status(app)
        # New sentences do not yank the view back while the user reads.
        session.emit(sentence(60, "新的一句。", "A new sentence."))
        await wait_until(pilot, lambda: app.rows.total_lines == 61)
        await pilot.pause()
        assert "A new sentence." not in "\n".join(pane_lines(app.target_pane))
        assert app.source_pane.scroll_y == app.target_pane.scroll_y
        await pilot.press("end")
        await pilot.pause()
        assert app.following
        assert "▼ live" in status(app)
        assert "A new sentence." in "\n".join(pane_lines(app.target_pane))


async def test_question_mark_shows_help() -> None:
    app = build_app(ScriptedSession(demo_script()))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_command_palette_runs_a_session_command() -> None:
    session = ScriptedSession(demo_script())
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Mark")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: session.calls == [("mark", "mark 1")])


async def test_q_stops_gracefully_runs_closers_and_exits_with_the_session_code() -> None:
    session = ScriptedSession(demo_script())
    recorder = Recorder()
    app = build_app(session, closers=[recorder.closer(), recorder.closer()])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert session.calls == [("stop", "stopped")]
    assert recorder.closed == 2
    assert app.return_code == exitcodes.OK


async def test_second_q_forces_exit_when_the_session_does_not_end() -> None:
    session = ScriptedSession(demo_script(), end_on_stop=False)
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running
        assert "stopping" in header(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == exitcodes.INTERRUPTED
    assert session.calls == [("stop", "stopped"), ("stop", "interrupted")]


async def test_input_end_keeps_the_transcript_until_q() -> None:
    session = ScriptedSession(demo_script())
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0)
        session.finish("input-ended")
        await wait_until(pilot, lambda: "■ ended" in header(app))
        assert app.is_running
        assert "大家好" in "\n".join(pane_lines(app.source_pane))
        await pilot.press("space")  # nothing to pause any more
        assert ("pause", "") not in session.calls
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == exitcodes.OK
    assert session.calls == []


async def test_final_failure_shows_what_to_do_and_keeps_the_transcript() -> None:
    session = ScriptedSession(
        [
            *demo_script(),
            RequestFailed(
                "TongChuanSync", 12, "AuthFailure.SecretIdNotFound", "The SecretId is not found.", True
            ),
        ]
    )
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        dialog = app.screen
        assert isinstance(dialog, ErrorDialog)
        assert "AuthFailure.SecretIdNotFound" in dialog.advice.message
        assert "TENCENTCLOUD_SECRET_ID" in dialog.advice.action
        session.finish("failed", exit_code=exitcodes.SERVICE_REJECTED)
        await wait_until(pilot, lambda: "✖ failed" in header(app))
        assert len(app.screen_stack) == 2  # one dialog, not one per event
        await pilot.press("enter")
        assert not isinstance(app.screen, ErrorDialog)
        assert "大家好" in "\n".join(pane_lines(app.source_pane))
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == exitcodes.SERVICE_REJECTED


async def test_bad_language_pair_lists_the_allowed_pairs() -> None:
    session = ScriptedSession(
        [started(), RequestFailed("TongChuanSync", 0, "InvalidParameterValue", "Target not supported", True)]
    )
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert isinstance(app.screen, ErrorDialog)
        assert "zh → en/ja/ko/yue" in app.screen.advice.action
        assert "en → zh" in app.screen.advice.action


async def test_session_ending_with_an_error_code_shows_a_dialog() -> None:
    session = ScriptedSession([started()])
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        session.emit(SessionEnded("failed", 0, exitcodes.BAD_INPUT, "the microphone went away"))
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert isinstance(app.screen, ErrorDialog)
        assert app.screen.advice.message == "the microphone went away"
        assert "pick another device" in app.screen.advice.action


async def test_a_crashing_session_shows_one_line_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    session = ScriptedSession([started()], fail_with=RuntimeError("boom\nsecond line"))
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert isinstance(app.screen, ErrorDialog)
        assert app.screen.advice.message == "RuntimeError: boom"
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == exitcodes.UNEXPECTED
    assert any(record.exc_info for record in caplog.records if "session failed" in record.getMessage())


async def test_a_run_of_retries_is_one_toast_and_one_status_line_cleared_on_recovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = ScriptedSession([started()])
    clock = FrozenClock()
    app = build_app(session, clock=clock)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        for attempt in range(50):
            session.emit(
                RequestRetried("TongChuanSync", attempt, 1, "RequestLimitExceeded", "too fast", 1000)
            )
        clock.advance(12)
        await wait_until(pilot, lambda: "RequestLimitExceeded ×50 for 12 s" in status(app))
        assert notes.items == [("RequestLimitExceeded: retrying — too fast", "warning")]
        session.emit(ChunkSent(3, "u", 600, 200, 6400, 600, 90.0, "r", 1, False))
        await wait_until(pilot, lambda: "RequestLimitExceeded" not in status(app))
        await wait_until(pilot, lambda: len(notes.items) == 2)
    assert notes.items[1][0] == "Recovered after 50 failed attempts (RequestLimitExceeded)."


async def test_replay_badge() -> None:
    app = build_app(ScriptedSession(demo_script()), replay=True, emulated=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert header(app).lstrip().startswith("REPLAY")
        assert "EMULATOR" not in header(app)


async def test_stats_pane_warns_about_clipping_and_long_silence() -> None:
    session = ScriptedSession([started()])
    clock = FrozenClock()
    app = build_app(session, clock=clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        requests = app.query_one("#stats-requests")
        session.emit(LevelMeasured(dbfs=-0.5, peak_dbfs=0.0, clipped=True, silent_for_ms=0))
        await wait_until(pilot, lambda: "CLIPPING" in str(requests.render()))
        clock.advance(3)
        session.emit(LevelMeasured(dbfs=-70.0, peak_dbfs=-65.0, clipped=False, silent_for_ms=15_000))
        await wait_until(pilot, lambda: "silent for 15 s" in str(requests.render()))
        assert "CLIPPING" not in str(requests.render())


async def test_ctrl_c_quits_gracefully_like_q() -> None:
    session = ScriptedSession(demo_script())
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running)
    assert session.calls == [("stop", "stopped")]
    assert app.return_code == exitcodes.OK

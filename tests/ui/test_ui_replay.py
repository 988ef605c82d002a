"""`tongchuan-tui replay`: a journal played back in the app (Pilot), and a bad journal refused in one line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.ui.fakes import UiSettingsStub
from tests.ui.ui_helpers import pane_lines, wait_until
from tests.unit.journal_helpers import session_events, write_session
from tongchuan_tui import exitcodes
from tongchuan_tui.commands.replay import replay_command, replay_services
from tongchuan_tui.journal.reader import read_journal
from tongchuan_tui.ui.app import make_app
from tongchuan_tui.ui.screens.pickers import ChoiceScreen
from tongchuan_tui.ui.widgets.header import SessionHeader


async def test_replay_shows_the_recorded_session_and_exports_it(tmp_path: Path) -> None:
    path = tmp_path / "talk.jsonl"
    write_session(path, session_events(3))
    recorded = read_journal(path)
    app = make_app(UiSettingsStub(layout="side"), replay_services(recorded, None))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.model.state == "ended")
        header = app.query_one(SessionHeader).render().plain
        assert header.lstrip().startswith("REPLAY")
        assert "EMULATOR — not the real service" in header
        await wait_until(pilot, lambda: len(app.rows.rows) == 3)
        shown = "\n".join(pane_lines(app.target_pane))
        for sentence in recorded.sentences:
            assert sentence.target_text in shown
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "talk.srt").exists())
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == exitcodes.OK
    assert recorded.sentences[0].target_text in (tmp_path / "talk.srt").read_text(encoding="utf-8")


def test_a_missing_journal_is_one_line_and_exit_code_7(tmp_path: Path) -> None:
    result = CliRunner().invoke(replay_command, [str(tmp_path / "nope.jsonl")])
    assert result.exit_code == exitcodes.JOURNAL_ERROR
    assert result.output.count("\n") == 1
    assert "nope.jsonl" in result.output

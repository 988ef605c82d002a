"""The app around a real InterpreterSession on a file, talking to the in-process emulator (real time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.audio_helpers import tone_wav
from tests.functional.emulator_helpers import client_credentials
from tests.ui.fakes import UiSettingsStub
from tests.ui.ui_helpers import wait_until
from tongchuan_tui import exitcodes
from tongchuan_tui.api.client import TsiClient
from tongchuan_tui.audio.file import FileSource
from tongchuan_tui.emulator.testing import running_emulator
from tongchuan_tui.pipeline.options import SessionOptions
from tongchuan_tui.pipeline.session import InterpreterSession
from tongchuan_tui.services import Services
from tongchuan_tui.ui.app import make_app
from tongchuan_tui.ui.widgets.header import SessionHeader

CUES = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": 200, "end_ms": 900, "source": "第一句。", "target": "Sentence one."},
        {"start_ms": 1100, "end_ms": 1800, "source": "第二句。", "target": "Sentence two."},
        {"start_ms": 2000, "end_ms": 2700, "source": "第三句。", "target": "Sentence three."},
    ],
}


@pytest.mark.realtime
async def test_pause_and_resume_against_the_emulator(tmp_path: Path) -> None:
    audio = tone_wav(tmp_path / "talk.wav", 8.0)
    async with (
        running_emulator(cues=CUES) as emulator,
        TsiClient(client_credentials(emulator), endpoint=emulator.url) as client,
    ):
        source = FileSource(audio)
        options = SessionOptions(
            source="zh",
            target="en",
            input_description=source.description,
            endpoint_host=emulator.host,
            emulated=True,
        )
        session = InterpreterSession(options, client, source)
        services = Services(
            session=session,
            input_description=source.description,
            endpoint_host=emulator.host,
            emulated=True,
            source_lang="zh",
            target_lang="en",
        )
        app = make_app(UiSettingsStub(), services)

        def header() -> str:
            return app.query_one(SessionHeader).render().plain

        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: any(s.final for s in app.model.transcript.sentences()), 10)
            assert "Sentence one." in [s.target_text for s in app.model.transcript.sentences()]
            await pilot.press("space")
            await wait_until(pilot, lambda: "‖ paused" in header())
            # The pause ended the service session with IsEnd.
            await wait_until(pilot, lambda: emulator.state.sessions[0].ended, 10)
            assert len(emulator.state.sessions) == 1
            await pilot.press("space")
            await wait_until(pilot, lambda: "● live" in header())
            # Resuming opened a new service session, and audio flows on it.
            await wait_until(
                pilot,
                lambda: len(emulator.state.sessions) == 2 and len(emulator.state.sessions[1].packets) >= 2,
                10,
            )
            await pilot.press("q")
            await wait_until(pilot, lambda: not app.is_running, 15)
    assert app.return_code == exitcodes.OK
    sessions = list(emulator.state.sessions)
    assert [s.ended for s in sessions] == [True, True]
    assert sessions[1].seqs[0] == 0

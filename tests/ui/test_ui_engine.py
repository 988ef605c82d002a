"""The app around the real session engine, as the CLI builds it: the session on its own thread, a file on the
emulator, a journal written from its own thread, and the app only a subscriber (real time)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.functional.audio_helpers import write_wav
from tests.ui.fakes import UiSettingsStub
from tests.ui.ui_helpers import wait_until
from tongchuan_tui import exitcodes
from tongchuan_tui.api.credentials import Credentials
from tongchuan_tui.config import Settings
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import run_emulator_in_thread
from tongchuan_tui.journal.reader import read_journal
from tongchuan_tui.pipeline.events import Event
from tongchuan_tui.runtime import RunPlan, session_engine
from tongchuan_tui.services import Services
from tongchuan_tui.ui.app import make_app

CUES = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": 200, "end_ms": 1200, "source": "第一句。", "target": "Sentence one."},
        {"start_ms": 1500, "end_ms": 2500, "source": "第二句。", "target": "Sentence two."},
        {"start_ms": 2800, "end_ms": 3800, "source": "第三句。", "target": "Sentence three."},
    ],
}
SPEECH = [(200, 1200), (1500, 2500), (2800, 3800)]


@pytest.mark.realtime
async def test_the_app_shows_a_session_that_runs_on_its_engine_thread(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(4200, SPEECH, seed=4))
    journal = tmp_path / "session.jsonl"
    with run_emulator_in_thread(cues=CUES) as emulator:
        settings = Settings(input=str(wav), endpoint=emulator.url, end_timeout_s=5.0)
        plan = RunPlan(
            settings=settings,
            credentials=Credentials(emulator.secret_id, emulator.secret_key),
            journal_path=journal,
        )
        engine = session_engine(plan)
        event_threads: set[int] = set()

        def note_thread(event: Event) -> None:
            event_threads.add(threading.get_ident())

        engine.add_sink(note_thread)
        services = Services(
            session=engine,
            input_description=plan.input_description,
            endpoint_host=plan.endpoint_host,
            emulated=plan.emulated,
            source_lang="zh",
            target_lang="en",
            journal_path=journal,
        )
        app = make_app(UiSettingsStub(), services)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(
                pilot,
                lambda: "Sentence two." in [s.target_text for s in app.model.transcript.sentences()],
                15,
            )
            assert app.model.state == "live"
            await pilot.press("m")
            await wait_until(pilot, lambda: app.model.marks == 1)
            await pilot.press("q")
            await wait_until(pilot, lambda: not app.is_running, 15)
        state = emulator.state
    assert app.return_code == exitcodes.OK
    # The session's events came from its own thread, never from the app's.
    assert len(event_threads) == 1
    assert threading.get_ident() not in event_threads
    last = state.session(state.session_uuids[-1])
    assert last.ended, "q did not end the service session with IsEnd"
    recorded = read_journal(journal)
    assert recorded.closed
    assert [m.label for m in recorded.marks] == ["mark 1"]
    said = {target for uuid in state.session_uuids for _, target in state.session(uuid).final_texts}
    assert said <= {s.target_text for s in recorded.sentences if s.final}
    assert "Sentence two." in said

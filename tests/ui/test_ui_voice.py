"""The voice in the UI: `v` mutes and unmutes it, the stats pane shows its queue."""

from __future__ import annotations

import pytest

from tests.ui.fakes import ScriptedSession, demo_script
from tests.ui.ui_helpers import build_app, wait_until
from tongchuan_tui.ui.widgets.stats import StatsPane
from tongchuan_tui.voice.sink import VoiceStatus


class Voice:
    """The two services the UI uses of a voice output, over a real VoiceStatus."""

    def __init__(self) -> None:
        self.muted = False
        self.queued_ms = 2400

    def toggle(self) -> bool:
        self.muted = not self.muted
        return self.muted

    def line(self) -> str:
        return VoiceStatus(3, self.queued_ms, 1, 0, self.muted, None).line()


async def test_v_mutes_and_unmutes_the_voice_and_the_stats_show_its_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    voice = Voice()
    app = build_app(ScriptedSession(demo_script()), voice_status=voice.line, toggle_voice=voice.toggle)
    notes: list[str] = []
    original = app.notify
    monkeypatch.setattr(app, "notify", lambda message, **kw: (notes.append(message), original(message, **kw)))
    async with app.run_test(size=(160, 40)) as pilot:
        audio = app.query_one(StatsPane).query_one("#stats-audio")
        await wait_until(pilot, lambda: "2.4 s queued" in str(audio.render()))
        assert "3 sentences" in str(audio.render())
        await pilot.press("v")
        assert voice.muted
        assert "Voice muted." in notes
        await wait_until(pilot, lambda: "(muted)" in str(audio.render()))
        await pilot.press("v")
        assert not voice.muted
        assert "Voice on." in notes


async def test_v_without_a_voice_device_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(ScriptedSession(demo_script()))
    notes: list[str] = []
    original = app.notify
    monkeypatch.setattr(app, "notify", lambda message, **kw: (notes.append(message), original(message, **kw)))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert any("--voice-device" in note for note in notes)

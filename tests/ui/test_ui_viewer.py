"""The app as a viewer of a detached session (`attach`): a real control server in this process, the app on
a `RemoteSession` over its socket; `q` asks, `d` detaches (the session goes on), `s` stops it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.fakes import FrozenClock, UiSettingsStub
from tests.ui.ui_helpers import pane_lines, wait_until
from tongchuan_tui.pipeline.events import Sentence, SentenceRevised, SessionEnded, SessionStarted
from tongchuan_tui.remote.client import RemoteSession
from tongchuan_tui.remote.paths import runtime_dir, session_paths
from tongchuan_tui.remote.server import ControlServer, HostInfo
from tongchuan_tui.services import Services
from tongchuan_tui.ui.screens.quit import QuitViewerDialog
from tongchuan_tui.ui.viewer import make_viewer_app


class Host:
    """A control server fed by the test, recording the commands viewers send."""

    def __init__(self, directory: Path) -> None:
        self.commands: list[str] = []
        info = HostInfo(
            "talk-1", "talk.wav", "zh", "en", 1_700_000_000.0, os.getpid(), None, "127.0.0.1", True
        )
        self.server = ControlServer(session_paths("talk-1", directory), info, self._command)

    def _command(self, name: str, args: dict[str, Any]) -> None:
        self.commands.append(name)


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    base = Path(tempfile.mkdtemp(prefix="tt-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    served = Host(runtime_dir())
    served.server.start()
    served.server.sink(
        SessionStarted(1_700_000_000.0, "talk.wav", "zh", "en", "sync", 200, "127.0.0.1", True)
    )
    sentence = Sentence("0:1", 0, "1", 3, "各位早上好。", "Good morning, everyone.", 0, 1200, True)
    served.server.sink(SentenceRevised(sentence))
    try:
        yield served
    finally:
        served.server.close()
        shutil.rmtree(base, ignore_errors=True)


def viewer(host: Host) -> Any:
    session = RemoteSession(host.server.paths.socket, "talk-1")
    services = Services(
        session=session,
        input_description="talk.wav",
        endpoint_host="127.0.0.1",
        emulated=True,
        source_lang="zh",
        target_lang="en",
    )
    return make_viewer_app(UiSettingsStub(layout="side", final_only=False), services, clock=FrozenClock())


async def test_a_late_viewer_shows_what_was_said_and_q_d_detaches_leaving_the_session_running(
    host: Host,
) -> None:
    app = viewer(host)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: "Good morning, everyone." in "\n".join(pane_lines(app.target_pane)))
        assert "各位早上好。" in "\n".join(pane_lines(app.source_pane))
        await wait_until(pilot, lambda: host.server.viewers == 1)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitViewerDialog))
        await pilot.press("d")
        await wait_until(pilot, lambda: not app.is_running, within_s=10)
    assert app.return_code == 0
    assert host.commands == []  # detaching never asks the session to stop
    assert host.server.viewers == 0


async def test_q_then_s_stops_the_session_for_everyone(host: Host) -> None:
    app = viewer(host)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: host.server.viewers == 1)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitViewerDialog))
        await pilot.press("escape")  # back to the transcript: nothing happens
        await wait_until(pilot, lambda: not isinstance(app.screen, QuitViewerDialog))
        assert host.commands == []
        await pilot.press("q", "s")
        await wait_until(pilot, lambda: host.commands == ["stop"])
        host.server.sink(SessionEnded("stopped", 1500, 0))  # what the host does once stopped
        await wait_until(pilot, lambda: not app.is_running, within_s=10)
    assert app.return_code == 0

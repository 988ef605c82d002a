"""The interpreter app as a viewer of a session in another process (`tongchuan-tui attach`).

Everything is the app's own, but `q` asks whether to detach (the session goes on) or stop the session; a
second `q`, Ctrl-C or the terminal going away only ever detaches (`RemoteSession.stop` with any reason but
"stopped" detaches).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tongchuan_tui.pipeline.events import Event, SessionStarted
from tongchuan_tui.remote.client import RemoteSession
from tongchuan_tui.services import Services
from tongchuan_tui.ui.app import InterpreterApp, UiSettings
from tongchuan_tui.ui.model import STATE_ENDED
from tongchuan_tui.ui.screens.quit import DETACH, STOP, QuitViewerDialog


class ViewerApp(InterpreterApp):
    """An `InterpreterApp` on a `RemoteSession`: quitting asks before it stops anything."""

    def __init__(self, settings: UiSettings, services: Services, *, clock: Callable[[], float]) -> None:
        super().__init__(settings, services, clock=clock)
        self.TITLE = f"tongchuan-tui · {self._remote.name}"

    @property
    def _remote(self) -> RemoteSession:
        session = self.services.session
        assert isinstance(session, RemoteSession)
        return session

    def on_mount(self) -> None:
        # (Textual calls InterpreterApp.on_mount as well.) The elapsed time counts from when the session
        # started, not from when this viewer attached.
        self.services.session.add_sink(self._started_when)

    def _started_when(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self.model.started_ago(time.time() - event.started_at_utc)

    def action_quit_gracefully(self) -> None:
        """Ask: detach or stop. Once asked (or the session is over), quit as the app does."""
        if self.quitting or self.model.state == STATE_ENDED or isinstance(self.screen, QuitViewerDialog):
            if isinstance(self.screen, QuitViewerDialog):
                self._remote.detach()  # a second q while asking: leave, never stop
            super().action_quit_gracefully()
            return
        self.push_screen(QuitViewerDialog(self._remote.name), self._chosen)

    def _chosen(self, choice: str | None) -> None:
        if choice == DETACH:
            self._remote.detach()
            super().action_quit_gracefully()  # its stop() is only a detach now: the session goes on
        elif choice == STOP:
            super().action_quit_gracefully()


def make_viewer_app(
    settings: UiSettings, services: Services, *, clock: Callable[[], float] = time.monotonic
) -> ViewerApp:
    """The app for `attach`: `services.session` is a RemoteSession."""
    return ViewerApp(settings, services, clock=clock)

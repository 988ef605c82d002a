"""The one private Textual hook the app uses (`App._handle_exception`) still works as the app relies on.

Textual is bounded in pyproject.toml; before raising the bound, this test says whether the hook survived:
an error in a handler must reach the override, be logged, and end the app with exit code 1 and one line.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest
from textual.app import App

from tests.ui.fakes import ScriptedSession, started
from tests.ui.ui_helpers import build_app, wait_until
from tongchuan_tui import exitcodes
from tongchuan_tui.ui.app import InterpreterApp


def test_the_hook_exists_with_the_signature_the_override_has() -> None:
    hook = getattr(App, "_handle_exception", None)
    assert hook is not None, "Textual no longer has App._handle_exception: rework InterpreterApp's override"
    assert list(inspect.signature(hook).parameters) == ["self", "error"]


class _Exits(asyncio.Event):
    """Set when the app asks to exit, keeping the one line it leaves."""

    message: object = None


exits = _Exits()


class _AsIfInATerminal(InterpreterApp):
    """The app taking its terminal path (a pilot runs headless, where the override defers to Textual)."""

    @property
    def is_headless(self) -> bool:
        return False

    def exit(self, result: object = None, return_code: int = 0, message: object = None) -> None:
        exits.message = message
        exits.set()
        super().exit(result, return_code, message)  # type: ignore[arg-type]


async def test_an_error_in_a_handler_ends_the_app_with_one_line_and_code_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exits.clear()
    exits.message = None
    session = ScriptedSession([started()])
    app = build_app(session)
    app.__class__ = _AsIfInATerminal

    def broken() -> None:
        raise RuntimeError("a bug in a callback")

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        app.call_later(broken)
        # Waited on directly, not with pilot.pause: the pilot waits for screens of an app that is exiting.
        await asyncio.wait_for(exits.wait(), 10)
    assert exits.message is not None
    assert "unexpected error in the UI (RuntimeError); see the log file" in str(exits.message)
    assert app.return_code == exitcodes.UNEXPECTED
    logged = [r for r in caplog.records if r.getMessage() == "unexpected error in the UI"]
    assert logged, "the override was not called: Textual's private hook changed"
    assert logged[0].exc_info is not None

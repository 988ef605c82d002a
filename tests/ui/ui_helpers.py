"""Helpers for Pilot tests of the interpreter app: build it around a scripted session, read its screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tests.ui.fakes import FrozenClock, ScriptedSession, UiSettingsStub, make_services
from tongchuan_tui.services import Services
from tongchuan_tui.ui.app import InterpreterApp, make_app
from tongchuan_tui.ui.widgets.transcript import TranscriptPane


def build_app(
    session: ScriptedSession,
    *,
    clock: FrozenClock | None = None,
    layout: str = "auto",
    final_only: bool = False,
    **services: object,
) -> InterpreterApp:
    """The app as the CLI would make it, around a scripted session."""
    built: Services = make_services(session, **services)
    return make_app(UiSettingsStub(layout=layout, final_only=final_only), built, clock=clock or FrozenClock())


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Let the app run until `condition` holds; fail after `within_s` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within_s} s")
        await pilot.pause(0.02)


def pane_lines(pane: TranscriptPane) -> list[str]:
    """The text a pane shows, line by line, as the user sees it."""
    return [pane.render_line(y).text.rstrip() for y in range(pane.scrollable_content_region.height)]


def drawn_lines(pane: TranscriptPane) -> list[str]:
    """The text of a pane as last composed onto the screen (what the terminal got, not what it would draw)."""
    strips = pane.screen._compositor.render_strips()
    region = pane.scrollable_content_region
    return [strips[y].crop(region.x, region.right).text.rstrip() for y in range(region.y, region.bottom)]

"""Snapshot tests of the interpreter screen at 80×24 and 160×48, with a frozen clock and a scripted session.

Update the baselines with `pytest tests/ui/test_ui_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.fakes import DEMO_SENTENCES, FrozenClock, ScriptedSession, demo_script
from tests.ui.ui_helpers import build_app, wait_until
from tongchuan_tui.pipeline.events import RequestFailed
from tongchuan_tui.ui.app import InterpreterApp

SnapCompare = Callable[..., bool]


def settled(app: InterpreterApp, clock: FrozenClock) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Run until the scripted events are drawn, then set the clock to 12 min 34 s into the session."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: len(app.model.transcript) == len(DEMO_SENTENCES) + 1)
        clock.advance(754)
        app.refresh_view()
        await pilot.pause()

    return run_before


def demo_app(**options: object) -> tuple[InterpreterApp, FrozenClock]:
    clock = FrozenClock()
    return build_app(ScriptedSession(demo_script()), clock=clock, **options), clock  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_live_session(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app, clock = demo_app()
    assert snap_compare(app, terminal_size=size, run_before=settled(app, clock))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_stats_toggled(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app, clock = demo_app()
    assert snap_compare(app, terminal_size=size, press=["s"], run_before=settled(app, clock))


@pytest.mark.parametrize("layout", ["interleaved", "translation"])
def test_layouts_80x24(snap_compare: SnapCompare, layout: str) -> None:
    app, clock = demo_app(layout=layout)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, clock))


def test_final_only_side_by_side(snap_compare: SnapCompare) -> None:
    app, clock = demo_app(layout="side", final_only=True)
    assert snap_compare(app, terminal_size=(160, 48), run_before=settled(app, clock))


def test_bad_key_dialog(snap_compare: SnapCompare) -> None:
    script = [
        *demo_script(),
        RequestFailed("TongChuanSync", 0, "AuthFailure.SecretIdNotFound", "The SecretId is not found.", True),
    ]
    clock = FrozenClock()
    app = build_app(ScriptedSession(script), clock=clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(app, clock)(pilot)
        await wait_until(pilot, lambda: len(app.screen_stack) > 1)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

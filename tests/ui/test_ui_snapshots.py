"""Snapshot tests of the interpreter screen at 80×24 and 160×48, with a frozen clock and a scripted session.

Update the baselines with `pytest tests/ui/test_ui_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.color import Color, ColorSystem
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import DEFAULT_TERMINAL_THEME as XTERM_PALETTE
from textual.color import Color as TextualColor
from textual.filter import LineFilter
from textual.pilot import Pilot

from tests.ui.fakes import DEMO_SENTENCES, FrozenClock, ScriptedSession, demo_script
from tests.ui.ui_helpers import build_app, wait_until
from tongchuan_tui.pipeline.events import HealthChanged, RequestFailed, RequestRetried
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


class SixteenColours(LineFilter):
    """Draws what a 16-colour terminal (TERM=xterm, screen, linux) shows: every colour downgraded to the
    nearest of the 16 ANSI colours (as the terminal would be sent), then painted in a common xterm palette."""

    def apply(self, segments: list[Segment], background: TextualColor) -> list[Segment]:
        return [
            Segment(text, _sixteen(style) if style else style, control) for text, style, control in segments
        ]


def _sixteen_colour(color: Color | None) -> Color | None:
    if color is None or color.is_default:
        return color
    standard = color.downgrade(ColorSystem.STANDARD)
    return Color.from_triplet(standard.get_truecolor(XTERM_PALETTE))


def _sixteen(style: Style) -> Style:
    return style + Style(color=_sixteen_colour(style.color), bgcolor=_sixteen_colour(style.bgcolor))


def test_live_session_40x15_keeps_the_emulator_badge_and_the_health(snap_compare: SnapCompare) -> None:
    app, clock = demo_app()
    assert snap_compare(app, terminal_size=(40, 15), run_before=settled(app, clock))


def test_live_session_on_a_16_colour_terminal(snap_compare: SnapCompare) -> None:
    app, clock = demo_app(layout="side")
    app._filters.append(SixteenColours())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, clock))


def test_live_session_with_no_color(snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, clock = demo_app(layout="side")
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, clock))


def test_reconnecting_header_at_80x24(snap_compare: SnapCompare) -> None:
    clock = FrozenClock()
    script = [
        *demo_script(),
        HealthChanged("reconnecting", "service unreachable", "NetworkError: refused (×3)", 1_764_000_000.0),
        RequestRetried("TongChuanSync", 40, 1, "NetworkError", "Cannot connect to host", 250),
        RequestRetried("TongChuanSync", 40, 2, "NetworkError", "Cannot connect to host", 500),
    ]
    app = build_app(ScriptedSession(script), clock=clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, clock))


def test_translation_only_audience_look(snap_compare: SnapCompare) -> None:
    app, clock = demo_app(layout="translation")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, clock))

"""The interpreter app on a multi-target session: one target large in the panes, the others below it (in
columns when wide, as tabs when narrow), `t` cycling which is large, and each target's health on the stats
pane."""

from __future__ import annotations

import dataclasses

from tests.ui.fakes import ScriptedSession, sentence, started
from tests.ui.ui_helpers import build_app, pane_lines, wait_until
from tongchuan_tui.pipeline.events import Event, SentenceRevised, StatsSnapshot, StatsUpdated, TargetEnded
from tongchuan_tui.ui.widgets.stats import StatsPane
from tongchuan_tui.ui.widgets.targets import TargetsStrip

LINES = [
    ("大家好。", "Hello everyone.", "皆さん、こんにちは。", "여러분 안녕하세요."),
    ("会议开始。", "The meeting begins.", "会議を始めます。", "회의를 시작합니다."),
]


def tagged(index: int, target: str, text: str) -> SentenceRevised:
    s = sentence(index, LINES[index][0], text).sentence
    key = s.key if target == "en" else f"{target}/{s.key}"
    return SentenceRevised(dataclasses.replace(s, key=key, target=target))


def script() -> list[Event]:
    events: list[Event] = [dataclasses.replace(started(), targets=("en", "ja", "ko"))]
    for n, (_, en, ja, ko) in enumerate(LINES):
        events += [tagged(n, "en", en), tagged(n, "ja", ja), tagged(n, "ko", ko)]
    events.append(StatsUpdated(StatsSnapshot(requests_ok=30)))
    for target, ok in (("en", 10), ("ja", 11), ("ko", 9)):
        events.append(StatsUpdated(StatsSnapshot(requests_ok=ok, behind_live_ms=300), target=target))
    events.append(TargetEnded("ko", "failed", 5, "InvalidParameterValue: no ko"))
    return events


async def test_one_target_large_the_others_in_columns_and_t_cycles() -> None:
    app = build_app(ScriptedSession(script()), target_lang="en,ja,ko")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0 and app.model.target_ended != {})
        await pilot.pause()
        assert any("Hello everyone." in line for line in pane_lines(app.target_pane))
        assert not any("会議" in line for line in pane_lines(app.target_pane))
        await wait_until(pilot, lambda: "会議を始めます。" in app.query_one(TargetsStrip).render_line(2).text)
        lines = [app.query_one(TargetsStrip).render_line(y).text for y in range(4)]
        assert "ja" in lines[0]
        assert "ko" in lines[0]
        assert any("stopped: InvalidParameterValue" in line for line in lines)
        stats = app.query_one("#stats-requests").render()
        assert "ja  ok" in str(stats)
        assert "ko  stopped" in str(stats)
        assert app.query_one(StatsPane).display
        await pilot.press("t")
        await wait_until(
            pilot, lambda: any("会議を始めます。" in line for line in pane_lines(app.target_pane))
        )
        assert app.target_pane.border_title == "translation · ja"
        assert not any("Hello everyone." in line for line in pane_lines(app.target_pane))
        await wait_until(
            pilot,
            lambda: any(
                "The meeting begins." in app.query_one(TargetsStrip).render_line(y).text for y in range(4)
            ),
        )


async def test_a_narrow_terminal_shows_the_other_targets_as_tabs() -> None:
    app = build_app(ScriptedSession(script()), target_lang="en,ja,ko")
    async with app.run_test(size=(70, 30)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines > 0 and app.model.target_ended != {})
        await wait_until(
            pilot, lambda: "(t: next language)" in app.query_one(TargetsStrip).render_line(0).text
        )
        first = app.query_one(TargetsStrip).render_line(0).text
        assert " ja " in first
        assert " ko " in first
        body = [app.query_one(TargetsStrip).render_line(y).text for y in range(1, 4)]
        assert any("会議を始めます。" in line for line in body)
        assert not any("회의" in line for line in body)

"""Redraws are coalesced however fast results arrive, and the panes stay bounded."""

from __future__ import annotations

import gc
import logging

import pytest
from textual.scrollbar import ScrollBarRender

from tests.ui.fakes import ScriptedSession, sentence, started
from tests.ui.ui_helpers import build_app, drawn_lines, pane_lines, wait_until
from tongchuan_tui.ui.model import DEFAULT_SENTENCE_LIMIT, TranscriptModel
from tongchuan_tui.ui.rows import Damage, TranscriptRows
from tongchuan_tui.ui.text import HOUR_MS
from tongchuan_tui.ui.widgets.transcript import TranscriptPane, scrollbar_thumb


async def test_a_burst_of_revisions_is_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ScriptedSession([started()])
    app = build_app(session)
    rebuilds: list[int] = []
    original = TranscriptRows.rebuild
    original_sync = TranscriptRows.sync

    def counting(self: TranscriptRows, *args: object, **kwargs: object) -> None:
        rebuilds.append(len(args[0]))  # type: ignore[arg-type]
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    def counting_sync(self: TranscriptRows, transcript: TranscriptModel) -> Damage | None:
        damage = original_sync(self, transcript)
        if damage is not None:
            rebuilds.append(len(transcript))
        return damage

    monkeypatch.setattr(TranscriptRows, "rebuild", counting)
    monkeypatch.setattr(TranscriptRows, "sync", counting_sync)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        await pilot.pause(0.1)
        before = len(rebuilds)
        # 5,000 revisions of 50 sentences arrive between two redraws (the sink only updates the model).
        for ver in range(100):
            for index in range(50):
                session.emit(
                    sentence(index, f"第{index}句第{ver}版", f"Sentence {index} v{ver}", final=False, ver=ver)
                )
        await wait_until(pilot, lambda: "Sentence 49 v99" in "\n".join(pane_lines(app.target_pane)))
        assert len(rebuilds) - before <= 2


async def test_a_sentence_past_the_hour_rewraps_none_already_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ScriptedSession([started()])
    app = build_app(session)
    rebuilds: list[int] = []
    original = TranscriptRows.rebuild

    def counting(self: TranscriptRows, *args: object, **kwargs: object) -> None:
        rebuilds.append(len(args[0]))  # type: ignore[arg-type]
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(TranscriptRows, "rebuild", counting)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        for index in range(200):
            start_ms = HOUR_MS - 200_000 + index * 1000
            session.emit(
                sentence(index, "大家好，欢迎来到今天的发布会。" * 2, f"Sentence {index}.", start_ms=start_ms)
            )
        await wait_until(pilot, lambda: len(app.rows.rows) == 200)
        before, rebuilt = app.rows.rows, len(rebuilds)
        redraws: list[None] = []
        redraw = app.refresh_view

        def counted_redraw() -> None:
            redraw()
            redraws.append(None)

        app.refresh_view = counted_redraw  # type: ignore[method-assign]
        session.emit(sentence(200, "一小时了。", "An hour in.", start_ms=HOUR_MS))
        await wait_until(pilot, lambda: "An hour in." in "\n".join(pane_lines(app.target_pane)))
        # A re-layout for a new width waits for the width to hold one frame: give it a few.
        shown_at = len(redraws)
        await wait_until(pilot, lambda: len(redraws) >= shown_at + 5)
        assert len(rebuilds) == rebuilt
        assert all(new is old for new, old in zip(app.rows.rows[:200], before, strict=True))
        lines = pane_lines(app.source_pane)
        assert any(line.startswith("1:00:00 一小时了。") for line in lines)
        assert any(line.startswith("59:59 ") for line in lines)


async def test_panes_keep_only_the_newest_sentences() -> None:
    session = ScriptedSession([started()])
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        for index in range(DEFAULT_SENTENCE_LIMIT + 3000):
            session.emit(sentence(index, f"第{index}句。", f"Sentence {index}."))
        await wait_until(pilot, lambda: len(app.rows.rows) == DEFAULT_SENTENCE_LIMIT)
        await pilot.pause()
        assert app.rows.rows[0].sentence.se_id == "3000"
        assert "Sentence 4999." in "\n".join(pane_lines(app.target_pane))


async def test_a_growing_transcript_needs_no_layout_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ScriptedSession([started(), *(sentence(i, f"第{i}句。", f"Sentence {i}.") for i in range(40))])
    app = build_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 40)
        await pilot.pause()
        layouts: list[str] = []
        original = TranscriptPane.refresh

        def spying(self: TranscriptPane, *regions: object, **options: bool) -> TranscriptPane:
            if options.get("layout"):
                layouts.append(self.id or "")
            return original(self, *regions, **options)  # type: ignore[arg-type]

        monkeypatch.setattr(TranscriptPane, "refresh", spying)
        for ver in range(1, 20):
            session.emit(
                sentence(40 + ver // 4, "新的一句" * ver, "A new sentence " * ver, final=False, ver=ver)
            )
            await pilot.pause(0.06)
        await wait_until(pilot, lambda: "A new sentence" in "\n".join(pane_lines(app.target_pane)))
        assert app.target_pane.scroll_y == app.target_pane.max_scroll_y > 0
        assert layouts == []


async def test_no_redraw_is_attempted_once_the_app_has_exited(caplog: pytest.LogCaptureFixture) -> None:
    session = ScriptedSession([started(), sentence(0, "你好", "Hello", final=True)])
    app = build_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 1)
    # The screens are gone; a redraw timer firing now (it can, while the app shuts down) must not fail.
    with caplog.at_level(logging.ERROR):
        app._tick()
    assert not [record for record in caplog.records if "redrawing the UI failed" in record.getMessage()]


async def test_the_screen_shows_every_revision_as_the_tail_grows() -> None:
    session = ScriptedSession([started(), *(sentence(i, f"第{i}句。", f"Sentence {i}.") for i in range(30))])
    app = build_app(session, layout="side")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.rows.total_lines == 30)
        for ver in range(1, 13):
            # Revisions that keep their height, then grow the row and scroll the panes.
            session.emit(
                sentence(
                    30, "新的一句" * (1 + ver // 3), f"New {ver} " * (1 + ver // 3), final=False, ver=ver
                )
            )
            if ver % 4 == 0:
                session.emit(sentence(30 + ver, f"第{30 + ver}句。", f"Sentence {30 + ver}."))
            await wait_until(pilot, lambda: app.rows.generation == app.model.transcript.generation)
            await pilot.pause()
            for pane in (app.source_pane, app.target_pane):
                assert drawn_lines(pane) == pane_lines(pane)
        assert "Sentence 42." in "\n".join(drawn_lines(app.target_pane))


async def test_the_app_leaves_the_garbage_collector_alone() -> None:
    # The session paces its packets on its own thread; the app needs no process-wide gc.freeze() for it.
    session = ScriptedSession([started()])
    app = build_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set() and app.model.state != "starting")
        assert gc.get_freeze_count() == 0
        assert gc.isenabled()


def test_the_scrollbar_is_repainted_whenever_textual_would_draw_it_differently() -> None:
    # The pane skips repainting its scrollbar while `scrollbar_thumb` stays the same: that must mean the same
    # drawing, for whatever range and position.
    drawn: dict[tuple[int, ...], list[tuple[str, object]]] = {}
    for size in (5, 23, 44):
        for virtual in range(size + 1, 400, 13):
            for eighths in range(0, (virtual - size) * 8 + 1, 11):
                position = eighths / 8
                thumb = scrollbar_thumb(size, virtual, size, position)
                bar = ScrollBarRender.render_bar(
                    size=size, virtual_size=virtual, window_size=size, position=position
                )
                segments: list[tuple[str, object]] = [
                    (segment.text, segment.style) for segment in bar.segments
                ]
                assert drawn.setdefault(thumb, segments) == segments
    assert len(drawn) > 300

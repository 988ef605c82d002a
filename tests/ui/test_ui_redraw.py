"""Redraws are coalesced however fast results arrive, and the panes stay bounded."""

from __future__ import annotations

import pytest

from tests.ui.fakes import ScriptedSession, sentence, started
from tests.ui.ui_helpers import build_app, pane_lines, wait_until
from tongchuan_tui.ui.model import DEFAULT_SENTENCE_LIMIT
from tongchuan_tui.ui.rows import TranscriptRows


async def test_a_burst_of_revisions_is_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
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


async def test_panes_keep_only_the_newest_sentences() -> None:
    session = ScriptedSession([started()])
    app = build_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: session.running.is_set())
        for index in range(DEFAULT_SENTENCE_LIMIT + 3000):
            session.emit(sentence(index, f"第{index}句。", f"Sentence {index}."))
        await wait_until(pilot, lambda: len(app.rows.rows) == DEFAULT_SENTENCE_LIMIT)
        await pilot.pause()
        assert app.rows.rows[0].sentence.se_id == 3000
        assert "Sentence 4999." in "\n".join(pane_lines(app.target_pane))

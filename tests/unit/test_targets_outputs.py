"""What a multi-target session leaves for its users: --plain lines tagged by target, one journal holding
every target, exports of one target at a time (subtitles parsed by srt and webvtt-py), and the settings that
ask for several targets."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
import srt
import webvtt
from tests.unit.journal_helpers import WallClock, sentence, started

from tongchuan_tui.config import ConfigError, load_settings
from tongchuan_tui.journal.export import export
from tongchuan_tui.journal.reader import read_journal
from tongchuan_tui.journal.writer import JournalWriter
from tongchuan_tui.pipeline.events import (
    Event,
    Sentence,
    SentenceRevised,
    SessionEnded,
    StatsSnapshot,
    StatsUpdated,
    TargetEnded,
)
from tongchuan_tui.pipeline.sinks import PlainSink

JA = ["これは一番目です。", "これは二番目です。"]


def _two_targets() -> list[Sentence]:
    out: list[Sentence] = []
    for n, ja in enumerate(JA):
        en = dataclasses.replace(sentence(n), target="en")
        out.append(en)
        out.append(dataclasses.replace(en, key=f"ja/0:{n}", target="ja", target_text=ja))
    return out


def _journal(path: Path, sentences: list[Sentence], *, targets: tuple[str, ...] = ("en", "ja")) -> Path:
    clock = WallClock()
    writer = JournalWriter(path, clock=clock, background_sync=False)
    writer(dataclasses.replace(started(), target=targets[0], targets=targets if len(targets) > 1 else ()))
    events: list[Event] = [SentenceRevised(s) for s in sentences]
    for event in [*events, SessionEnded("input-ended", 9000, 0)]:
        clock.now += 0.5
        writer(event)
    writer.close()
    return path


def test_plain_tags_each_target_and_shows_the_source_once() -> None:
    out = io.StringIO()
    sink = PlainSink(out)
    sink(dataclasses.replace(started(), targets=("en", "ja")))
    for s in _two_targets():
        sink(SentenceRevised(s))
    lines = out.getvalue().splitlines()
    assert lines == [
        "[00:00] 第0句话，这是原文。",
        "           [en] This is sentence number 0.",
        f"[00:00] [ja] {JA[0]}",
        "[00:03] 第1句话，这是原文。",
        "           [en] This is sentence number 1.",
        f"[00:03] [ja] {JA[1]}",
    ]


def test_one_journal_holds_every_target_and_exports_one_at_a_time(tmp_path: Path) -> None:
    journal = read_journal(_journal(tmp_path / "two.jsonl", _two_targets()))
    assert journal.header.all_targets == ("en", "ja")
    assert len(journal.sentences) == 4
    ja = [s.content for s in srt.parse(export(journal, "srt", target="ja"))]
    assert ja == JA
    vtt = tmp_path / "en.vtt"
    vtt.write_text(export(journal, "vtt"), encoding="utf-8")
    english = [f"This is sentence number {n}." for n in (0, 1)]
    assert [c.text for c in webvtt.read(str(vtt)).captions] == english
    both = export(journal, "txt", "both", target="ja")
    assert "zh → ja" in both
    assert "第0句话" in both
    assert JA[0] in both
    assert "sentence number" not in both
    with pytest.raises(ValueError, match=r"no target 'ko' \(its targets: en, ja\)"):
        export(journal, "srt", target="ko")


def test_a_single_target_journal_exports_as_before(tmp_path: Path) -> None:
    journal = read_journal(_journal(tmp_path / "one.jsonl", [sentence(0), sentence(1)], targets=("en",)))
    assert journal.header.targets == ()
    assert export(journal, "srt", target="en") == export(journal, "srt")
    assert len(list(srt.parse(export(journal, "srt")))) == 2


def test_targets_in_the_config_as_a_list_or_comma_separated(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('target = ["en", "ja"]\n', encoding="utf-8")
    assert load_settings(config_path=config, env={}).settings.targets == ("en", "ja")
    flags = load_settings(config_path=config, env={}, flags={"target": "ko, yue"}).settings
    assert (flags.target, flags.targets) == ("ko,yue", ("ko", "yue"))
    assert load_settings(config_path=config, env={}, flags={"target": "ja"}).settings.targets == ("ja",)
    with pytest.raises(ConfigError, match="languages named once each"):
        load_settings(config_path=config, env={}, flags={"target": "en,en"})
    with pytest.raises(ConfigError, match="language pair en → ja is not supported"):
        load_settings(config_path=config, env={}, flags={"source": "en", "target": "zh,ja"})


def test_plain_shows_the_next_targets_source_once_the_first_stops() -> None:
    out = io.StringIO()
    sink = PlainSink(out)
    sink(dataclasses.replace(started(), targets=("en", "ja")))
    sink(TargetEnded("en", "failed", 5, "InvalidParameterValue"))
    sink(SentenceRevised(_two_targets()[1]))
    assert out.getvalue().splitlines() == ["[00:00] 第0句话，这是原文。", f"           [ja] {JA[0]}"]


def test_the_journal_keeps_each_targets_stats(tmp_path: Path) -> None:
    clock = WallClock()
    path = tmp_path / "stats.jsonl"
    writer = JournalWriter(path, clock=clock, background_sync=False)
    writer(dataclasses.replace(started(), targets=("en", "ja")))
    for second in range(3):
        clock.now += 1.0
        writer(StatsUpdated(StatsSnapshot(requests_ok=10 * second)))
        writer(StatsUpdated(StatsSnapshot(requests_ok=5 * second), target="en"))
        writer(StatsUpdated(StatsSnapshot(requests_ok=4 * second), target="ja"))
    writer(SessionEnded("input-ended", 3000, 0))
    writer.close()
    stats = [e.event for e in read_journal(path).events if isinstance(e.event, StatsUpdated)]
    last = {s.target: s.stats.requests_ok for s in stats}
    assert last == {"": 20, "en": 10, "ja": 8}

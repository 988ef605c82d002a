"""Cue scripts: loading and validation, placement on the timeline, and how a cued sentence grows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tongchuan_tui.emulator.cues import Cue, CueError, CueScript, render_cue, text_prefix, text_units
from tongchuan_tui.resources import cue_scripts

SCRIPT = [
    {"start_ms": 0, "end_ms": 1000, "source": "你好世界", "target": "Hello world"},
    {"start_ms": 1500, "end_ms": 2500, "source": "再见", "target": "Goodbye"},
]


def test_list_form_gets_a_default_duration_after_the_last_cue() -> None:
    script = CueScript.from_json(SCRIPT)
    assert [c.source for c in script.cues] == ["你好世界", "再见"]
    assert script.duration_ms == 3500


def test_object_form_keeps_duration_and_languages() -> None:
    script = CueScript.from_json({"duration_ms": 4000, "source": "zh", "target": "en", "cues": SCRIPT})
    assert (script.duration_ms, script.source_language, script.target_language) == (4000, "zh", "en")


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ([], "non-empty list"),
        ([{"start_ms": 5, "end_ms": 5, "source": "a", "target": "b"}], "cue 0: end_ms (5) must be greater"),
        ([{"start_ms": 0, "end_ms": 5, "source": "a"}], "cue 0: missing 'target'"),
        ([{"start_ms": 0, "end_ms": 5, "source": "a", "target": "b", "x": 1}], "unknown key 'x'"),
        ([{"start_ms": -1, "end_ms": 5, "source": "a", "target": "b"}], "start_ms must be a non-negative"),
        ([{"start_ms": 0, "end_ms": 5, "source": " ", "target": "b"}], "source must be non-empty"),
        ([*SCRIPT, {"start_ms": 2000, "end_ms": 3000, "source": "a", "target": "b"}], "cue 2 starts at 2000"),
        (
            {"duration_ms": 100, "cues": SCRIPT},
            "duration_ms must be an integer >= the last cue's end_ms (2500)",
        ),
        ({"cues": SCRIPT, "speed": 2}, "unknown key 'speed'"),
        ({"cues": SCRIPT, "source": "fr"}, "source and target must be one of"),
    ],
)
def test_bad_scripts_name_what_is_wrong(obj: object, fragment: str) -> None:
    with pytest.raises(CueError, match=r"^test\.json: ") as info:
        CueScript.from_json(obj, "test.json")
    assert fragment in str(info.value)


def test_load_reports_bad_json_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cues.json"
    path.write_text('[\n{"start_ms": 0,,}\n]', encoding="utf-8")
    with pytest.raises(CueError, match=r"cues.json: not valid JSON \(line 2"):
        CueScript.load(path)
    with pytest.raises(CueError, match="cannot be read"):
        CueScript.load(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "path",
    list(cue_scripts().values()),
    ids=lambda p: p.name,
)
def test_shipped_cue_scripts_are_valid(path: Path) -> None:
    script = CueScript.load(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert len(script.cues) == len(raw["cues"])
    assert script.source_language is not None


def test_occurrences_without_loop_happen_once() -> None:
    script = CueScript.from_json(SCRIPT)
    assert [o.start_ms for o in script.occurrences(0, 100_000, loop=False)] == [0, 1500]
    assert [o.start_ms for o in script.occurrences(1, 1501, loop=False)] == [1500]
    assert list(script.occurrences(1501, 100_000, loop=False)) == []


def test_occurrences_with_loop_wrap_at_duration() -> None:
    script = CueScript.from_json({"duration_ms": 3000, "cues": SCRIPT})
    found = [(o.start_ms, o.end_ms, o.round) for o in script.occurrences(1000, 7600, loop=True)]
    assert found == [(1500, 2500, 0), (3000, 4000, 1), (4500, 5500, 1), (6000, 7000, 2), (7500, 8500, 2)]


def test_text_grows_by_characters_or_words() -> None:
    assert text_units("你好世界") == ["你", "好", "世", "界"]
    assert text_units("Hello big world") == ["Hello ", "big ", "world"]
    assert text_prefix("你好世界", 0.0) == ""
    assert text_prefix("你好世界", 0.01) == "你"
    assert text_prefix("你好世界", 0.5) == "你好"
    assert text_prefix("Hello big world", 0.5) == "Hello big"
    assert text_prefix("Hello big world", 1.0) == "Hello big world"


def test_a_cue_grows_then_becomes_final_with_translation_lagging() -> None:
    cue = Cue(0, 2000, "你好世界", "Hello wide world")
    drafts = [render_cue(cue, 0, 2000, pos, translate_time=2, closed=False) for pos in range(200, 2001, 200)]
    sources = [d.source_text for d in drafts]
    assert sources == sorted(sources, key=len)
    assert all(cue.source.startswith(s) for s in sources)
    assert [d.final for d in drafts] == [False] * 9 + [True]
    assert drafts[-1].target_text == cue.target
    assert drafts[-1].end_ms == 2000
    # The translation trails the source: empty at first, partial while the source is already longer.
    assert drafts[0].target_text == ""
    assert any(d.target_text and d.target_text != cue.target for d in drafts)


@pytest.mark.parametrize(("translate_time", "growing", "final"), [(0, "", ""), (1, "", "Hi there")])
def test_translate_time_0_never_translates_and_1_only_when_final(
    translate_time: int, growing: str, final: str
) -> None:
    cue = Cue(0, 1000, "你好", "Hi there")
    assert render_cue(cue, 0, 1000, 900, translate_time=translate_time, closed=False).target_text == growing
    assert render_cue(cue, 0, 1000, 1200, translate_time=translate_time, closed=False).target_text == final


def test_a_session_ending_mid_sentence_finalises_what_was_heard() -> None:
    cue = Cue(0, 1000, "一二三四", "one two three four")
    draft = render_cue(cue, 0, 1000, 500, translate_time=2, closed=True)
    assert (draft.final, draft.source_text, draft.target_text, draft.end_ms) == (True, "一二", "one two", 500)

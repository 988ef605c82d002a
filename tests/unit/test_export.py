"""Exports: SRT and WebVTT checked by independent parsers, timing rules, wrapping, bilingual, all formats."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.journal_helpers import (
    FAKE_SECRET_ID,
    FAKE_SECRET_KEY,
    FAKE_TOKEN,
    sentence,
    session_events,
    write_session,
)

from tongchuan_tui import exitcodes
from tongchuan_tui.commands.export import export_command
from tongchuan_tui.journal.export import FORMATS, Cue, build_cues, export, to_srt
from tongchuan_tui.journal.reader import Journal, read_journal
from tongchuan_tui.journal.wrap import CJK_CHARS_PER_LINE, LINE_WIDTH, text_width
from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised

LONG_EN = (
    "Simultaneous interpretation means translating while the speaker is still talking, which places "
    "very high demands on both network latency and the pacing of the audio that is being sent."
)
LONG_ZH = (
    "同声传译要求在讲话的同时给出翻译，这对网络延迟和音频节奏都有很高的要求，我们每两百毫秒发送一个音频包。"
)


def journal_of(tmp_path: Path, sentences: list[Sentence], *, close: bool = True) -> Journal:
    path = tmp_path / f"s{len(list(tmp_path.glob('*.jsonl')))}.jsonl"
    timeline: list[tuple[float, Event]] = [(i * 0.5, SentenceRevised(s)) for i, s in enumerate(sentences)]
    write_session(path, timeline, close=close)
    return read_journal(path)


def parse_srt(text: str) -> list[srt.Subtitle]:
    return list(srt.parse(text, ignore_errors=False))


def parse_vtt(tmp_path: Path, text: str) -> list[Any]:
    path = tmp_path / "out.vtt"
    path.write_text(text, encoding="utf-8")
    return list(webvtt.read(str(path)).captions)


def assert_timeline_ok(starts_ends: list[tuple[float, float]]) -> None:
    for start, end in starts_ends:
        assert end > start
    for (_, end), (next_start, _) in itertools.pairwise(starts_ends):
        assert end <= next_start


def test_srt_one_cue_per_short_sentence_on_the_timeline(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(n) for n in range(4)])
    cues = parse_srt(export(journal, "srt"))
    assert [c.content for c in cues] == [f"This is sentence number {n}." for n in range(4)]
    assert [c.index for c in cues] == [1, 2, 3, 4]
    assert cues[1].start == timedelta(seconds=3)
    assert cues[1].end == timedelta(seconds=5.5)
    assert_timeline_ok([(c.start.total_seconds(), c.end.total_seconds()) for c in cues])
    assert re.search(r"^00:00:03,000 --> 00:00:05,500$", export(journal, "srt"), re.MULTILINE)


def test_vtt_parses_with_webvtt_py(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(n, target=f"<b>Tom & Jerry</b> {n}") for n in range(3)])
    text = export(journal, "vtt")
    assert text.startswith("WEBVTT\n\n")
    assert "00:00:03.000 --> 00:00:05.500" in text
    captions = parse_vtt(tmp_path, text)
    assert len(captions) == 3
    assert captions[2].start == "00:00:06.000"
    assert captions[2].end == "00:00:08.500"
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; 2" in captions[2].raw_text


def test_overlapping_sentences_are_trimmed_and_short_ones_lengthened(tmp_path: Path) -> None:
    sentences = [
        sentence(0, start_ms=0, end_ms=4000),  # overlaps the next: trimmed to its start
        sentence(1, start_ms=3000, end_ms=3300),  # too short: lengthened to 1 s
        sentence(2, start_ms=5000, end_ms=5200),  # too short, but the next starts at 5.5 s
        sentence(3, start_ms=5500, end_ms=7000),
        sentence(4, start_ms=5500, end_ms=6000),  # starts with the previous: pushed after it
    ]
    cues = build_cues(journal_of(tmp_path, sentences).sentences)
    spans = [(c.start_ms, c.end_ms) for c in cues]
    assert spans[0] == (0, 3000)
    assert spans[1] == (3000, 4000)
    assert spans[2] == (5000, 5500)
    assert_timeline_ok([(float(a), float(b)) for a, b in spans])
    parse_srt(export(journal_of(tmp_path, sentences), "srt"))


def test_long_sentences_are_wrapped_and_split_into_consecutive_cues(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(0, source=LONG_ZH, target=LONG_EN, start_ms=0, end_ms=9000)])
    cues = parse_srt(export(journal, "srt"))
    assert len(cues) >= 2
    for cue in cues:
        lines = cue.content.split("\n")
        assert len(lines) <= 2
        assert all(len(line) <= LINE_WIDTH for line in lines)
    assert " ".join(c.content.replace("\n", " ") for c in cues) == LONG_EN
    assert cues[0].start == timedelta(0)
    assert cues[-1].end == timedelta(seconds=9)
    assert_timeline_ok([(c.start.total_seconds(), c.end.total_seconds()) for c in cues])

    zh_cues = parse_srt(export(journal, "srt", "source"))
    for cue in zh_cues:
        lines = cue.content.split("\n")
        assert len(lines) <= 2
        assert all(len(line) <= CJK_CHARS_PER_LINE for line in lines)
    assert "".join(c.content.replace("\n", "") for c in zh_cues) == LONG_ZH


def test_bilingual_cues_hold_source_then_target(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(n) for n in range(2)])
    cues = parse_srt(export(journal, "srt", "both"))
    assert [c.content.split("\n") for c in cues] == [
        [f"第{n}句话，这是原文。", f"This is sentence number {n}."] for n in range(2)
    ]
    long = journal_of(tmp_path, [sentence(0, source=LONG_ZH, target=LONG_EN, start_ms=0, end_ms=9000)])
    long_cues = parse_srt(export(long, "srt", "both"))
    assert len(long_cues) >= 2
    zh = en = ""
    for cue in long_cues:
        lines = cue.content.split("\n")
        cjk = [line for line in lines if text_width(line) > len(line)]
        latin = [line for line in lines if text_width(line) == len(line)]
        assert lines == cjk + latin  # source lines first
        assert len(cjk) <= 2
        assert len(latin) <= 2
        zh += "".join(cjk)
        en += " " + " ".join(latin)
    assert zh == LONG_ZH
    assert " ".join(en.split()) == LONG_EN


def test_every_translation_is_in_all_five_formats(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(n) for n in range(5)])
    for fmt in FORMATS:
        out = export(journal, fmt)
        if fmt == "json":
            document = json.loads(out)
            assert [s["target"] for s in document["sentences"]] == [
                f"This is sentence number {n}." for n in range(5)
            ]
            assert document["header"]["source"] == "zh"
            continue
        for n in range(5):
            assert f"This is sentence number {n}." in out, fmt
    both = export(journal, "txt", "both")
    assert "第3句话，这是原文。" in both
    assert "This is sentence number 3." in both


def test_markdown_has_a_header_table_and_the_transcript(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(n) for n in range(2)])
    md = export(journal, "md", "both")
    assert md.startswith("# Interpretation session 2025-11-25 08:41:53 UTC\n")
    assert "| Start | Languages | Input | Duration | Sentences |" in md
    assert "| 2025-11-25 08:41:53 UTC | zh → en | talk.wav |" in md
    assert "## Transcript" in md
    assert "**00:00:03** 第1句话，这是原文。  \n*This is sentence number 1.*" in md


def test_txt_is_timestamped_with_marks_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_session(path, session_events(2))
    txt = export(read_journal(path), "txt")
    lines = txt.splitlines()
    assert lines[0].startswith("Session 2025-11-25T08:41:53Z · zh → en · input: talk.wav")
    assert lines[2:] == [
        "[00:00:00] This is sentence number 0.",
        "[00:00:03] This is sentence number 1.",
        "[00:00:05] * mark: applause",
    ]


def test_crashed_session_exports_unfinished_sentences(tmp_path: Path) -> None:
    journal = journal_of(
        tmp_path, [sentence(0), sentence(1, 1, final=False, target="Half a sen")], close=False
    )
    assert [c.content for c in parse_srt(export(journal, "srt"))] == [
        "This is sentence number 0.",
        "Half a sen",
    ]
    assert "Half a sen (not final)" in export(journal, "txt")
    assert json.loads(export(journal, "json"))["sentences"][1]["final"] is False
    assert "did not end cleanly" in export(journal, "md")


def test_sentences_without_the_chosen_text_give_no_cue(tmp_path: Path) -> None:
    journal = journal_of(tmp_path, [sentence(0), sentence(1, target="")])
    assert len(parse_srt(export(journal, "srt"))) == 1
    assert len(parse_srt(export(journal, "srt", "source"))) == 2


def test_no_secret_in_any_export(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    settings = {
        "secret_id": FAKE_SECRET_ID,
        "secret_key": FAKE_SECRET_KEY,
        "token": FAKE_TOKEN,
        "mode": "sync",
    }
    write_session(path, session_events(2), settings=settings)
    journal = read_journal(path)
    for fmt in FORMATS:
        for text in ("target", "source", "both"):
            out = export(journal, fmt, text)
            for secret in (FAKE_SECRET_ID, FAKE_SECRET_KEY, FAKE_TOKEN):
                assert secret not in out


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export(journal_of(tmp_path, [sentence(0)]), "docx")


texts = st.lists(
    st.sampled_from(
        ["hello", "world,", "interpretation", "我们", "同声传译", "。", "「实时」", "안녕하세요", "x" * 50]
    ),
    min_size=1,
    max_size=30,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 60_000), st.integers(0, 8000), texts, texts), min_size=1, max_size=12
    ),
    which=st.sampled_from(["target", "source", "both"]),
)
def test_cues_never_overlap_and_respect_line_limits(
    spans: list[tuple[int, int, str, str]], which: str
) -> None:
    sentences = [
        Sentence(f"0:{i}", 0, str(i), 1, src, tgt, start, start + length, True)
        for i, (start, length, src, tgt) in enumerate(spans)
    ]
    cues = build_cues(sentences, which)
    assert_timeline_ok([(float(c.start_ms), float(c.end_ms)) for c in cues])
    per_language = 4 if which == "both" else 2
    for cue in cues:
        assert 1 <= len(cue.lines) <= per_language
        assert all(text_width(line) <= LINE_WIDTH + 1e-9 for line in cue.lines)
    parsed = parse_srt(export_cues_srt(cues))
    assert len(parsed) == len(cues)


def export_cues_srt(cues: list[Cue]) -> str:
    return to_srt(cues)


def test_export_command_writes_stdout_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_session(path, session_events(2))
    runner = CliRunner()
    result = runner.invoke(export_command, [str(path), "--format", "srt"])
    assert result.exit_code == 0, result.output
    assert len(parse_srt(result.stdout)) == 2
    out = tmp_path / "out.vtt"
    result = runner.invoke(export_command, [str(path), "--format", "vtt", "--text", "both", "-o", str(out)])
    assert result.exit_code == 0
    assert len(parse_vtt(tmp_path, out.read_text(encoding="utf-8"))) == 2


def test_export_command_warns_on_stderr_about_damaged_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_session(path, session_events(2))
    with path.open("ab") as fh:
        fh.write(b'{"type":"SentenceRev')
    result = CliRunner().invoke(export_command, [str(path), "--format", "txt"])
    assert result.exit_code == 0
    assert "skipped 1 damaged line" in result.stderr
    assert "This is sentence number 1." in result.stdout
    assert "skipped" not in result.stdout


def test_export_command_refuses_a_missing_journal_with_its_exit_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(export_command, [str(tmp_path / "nope.jsonl"), "--format", "srt"])
    assert result.exit_code == exitcodes.JOURNAL_ERROR
    assert result.stderr.strip().count("\n") == 0
    assert "no such journal file" in result.stderr

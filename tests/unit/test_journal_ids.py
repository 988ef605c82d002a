"""Journal format 2: SeIds are opaque text, raw StartTime/EndTime kept; format-1 journals still read and
replay; ties on the timeline go to the sentence that appeared first, never to the id's value."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.unit.journal_helpers import write_session

from tongchuan_tui.journal.export import build_cues, export
from tongchuan_tui.journal.format import FORMAT_VERSION
from tongchuan_tui.journal.reader import read_journal
from tongchuan_tui.journal.replay import ReplaySession
from tongchuan_tui.pipeline.events import Event, Sentence, SentenceRevised
from tongchuan_tui.pipeline.sinks import PlainSink

HEADER_V1 = {
    "type": "JournalHeader",
    "format": 1,
    "app_version": "0.9.0",
    "started_at_utc": "2026-11-25T08:41:53Z",
    "started_at": 1764060113.25,
    "input": "talk.wav",
    "source": "zh",
    "target": "en",
    "mode": "sync",
    "chunk_ms": 200,
    "endpoint_host": "127.0.0.1:8080",
    "emulated": True,
    "settings": {},
}


def v1_sentence(se_id: int, start_ms: int, text: str, t: float, *, ver: int = 2, final: bool = True) -> str:
    """A SentenceRevised line exactly as format 1 wrote it: a numeric se_id, no raw times."""
    sentence = {
        "key": f"0:{se_id}",
        "service_session": 0,
        "se_id": se_id,
        "se_ver": ver,
        "source_text": f"原文{se_id}",
        "target_text": text,
        "start_ms": start_ms,
        "end_ms": start_ms + 2000,
        "final": final,
    }
    return json.dumps({"type": "SentenceRevised", "sentence": sentence, "t": t})


def write_v1(path: Path) -> Path:
    lines = [
        json.dumps(HEADER_V1),
        v1_sentence(10, 9000, "Ten", 10.0),
        v1_sentence(2, 1000, "Two, draft", 2.0, ver=1, final=False),
        v1_sentence(2, 1000, "Two", 3.0),
        v1_sentence(9, 5000, "Nine", 6.0),
        json.dumps({"type": "JournalClosed", "t": 11.0, "ended_at_utc": "2026-11-25T08:42:04Z",
                    "reason": "input-ended", "exit_code": 0, "final_sentences": 3}),
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_format_1_journal_reads_with_its_numeric_ids_as_text(tmp_path: Path) -> None:
    journal = read_journal(write_v1(tmp_path / "v1.jsonl"))
    assert journal.skipped_lines == 0
    assert journal.warnings == []
    assert [(s.se_id, s.target_text) for s in journal.sentences] == [
        ("2", "Two"),
        ("9", "Nine"),
        ("10", "Ten"),
    ]
    assert all(s.raw_start is None and s.unit_ms is None for s in journal.sentences)
    cues = build_cues(journal.sentences)
    assert [(c.start_ms, c.lines) for c in cues] == [(1000, ("Two",)), (5000, ("Nine",)), (9000, ("Ten",))]


async def test_a_format_1_journal_replays(tmp_path: Path) -> None:
    journal = read_journal(write_v1(tmp_path / "v1.jsonl"))
    out = io.StringIO()
    await ReplaySession(journal, speed=None, sinks=[PlainSink(out)]).run()
    assert [line.strip() for line in out.getvalue().splitlines()[1::2]] == ["Two", "Nine", "Ten"]


def opaque(se_id: str, start_ms: int, text: str, *, raw: int | None = None) -> Sentence:
    return Sentence(
        key=f"0:{se_id}",
        service_session=0,
        se_id=se_id,
        se_ver=1,
        source_text=text,
        target_text=text,
        start_ms=start_ms,
        end_ms=start_ms + 1500,
        final=True,
        raw_start=raw,
        raw_end=None if raw is None else raw + 1,
        unit_ms=None if raw is None else 1000,
    )


def test_opaque_ids_and_raw_times_survive_the_journal(tmp_path: Path) -> None:
    ids = ["0c4641e341e5", "a:b:c", "句子·一", "", "007"]
    sentences = [opaque(se_id, i * 2000, f"text {i}", raw=i * 2) for i, se_id in enumerate(ids)]
    path = tmp_path / "s.jsonl"
    timeline: list[tuple[float, Event]] = [(i * 0.5, SentenceRevised(s)) for i, s in enumerate(sentences)]
    write_session(path, timeline)
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["format"] == FORMAT_VERSION == 2
    journal = read_journal(path)
    assert journal.skipped_lines == 0
    assert journal.sentences == sentences
    exported = json.loads(export(journal, "json"))
    assert [s["se_id"] for s in exported["sentences"]] == ids


def test_timeline_ties_go_to_first_appearance_not_to_the_id(tmp_path: Path) -> None:
    # Three sentences at the same StartTime (seconds, say): spoken z, then a, then m — ids sort otherwise.
    spoken = [opaque("z", 3000, "first"), opaque("a", 3000, "second"), opaque("m", 3000, "third")]
    path = tmp_path / "s.jsonl"
    write_session(path, [(i * 0.5, SentenceRevised(s)) for i, s in enumerate(spoken)])
    journal = read_journal(path)
    assert [s.se_id for s in journal.sentences] == ["z", "a", "m"]
    cues = build_cues(journal.sentences)
    assert [c.lines for c in cues] == [("first",), ("second",), ("third",)]
    assert "first" in export(journal, "txt").split("second")[0]

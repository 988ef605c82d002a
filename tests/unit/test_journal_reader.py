"""Reading journals back, including damaged ones: truncated, corrupt, reordered, from a newer version."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.journal_helpers import sentence, session_events, write_session

from tongchuan_tui.journal.reader import JournalError, parse_journal, read_journal
from tongchuan_tui.pipeline.events import (
    ChunkSent,
    MarkAdded,
    RequestFailed,
    SentenceRevised,
    SessionEnded,
    StatsUpdated,
)

FUZZ_PATH = Path("fuzz.jsonl")


@pytest.fixture(scope="module")
def clean_journal(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("journal") / "s.jsonl"
    write_session(path, session_events(4))
    return path.read_bytes()


def final_sentence_lines(raw: bytes) -> dict[bytes, tuple[str, str]]:
    """Each final-sentence line of a journal, with the (key, target text) it carries."""
    found = {}
    for line in raw.split(b"\n"):
        if b'"SentenceRevised"' in line:
            record = json.loads(line)
            if record["sentence"]["final"]:
                found[line] = (record["sentence"]["key"], record["sentence"]["target_text"])
    return found


def test_reads_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    timeline = session_events(3)
    write_session(path, timeline)
    journal = read_journal(path)
    assert journal.closed
    assert journal.skipped_lines == 0
    assert journal.warnings == []
    assert journal.header.source == "zh"
    assert journal.header.input == "talk.wav"
    assert [s.key for s in journal.sentences] == ["0:0", "0:1", "0:2"]
    assert all(s.final and s.se_ver == 3 for s in journal.sentences)
    assert journal.sentences[1].target_text == "This is sentence number 1."
    assert journal.marks == [MarkAdded(8000, "applause")]
    assert len(journal.errors) == 1
    assert isinstance(journal.errors[0], RequestFailed)
    assert journal.ended == SessionEnded("input-ended", 9000, 0)
    assert journal.duration_s == 9.0
    chunks = [e.event for e in journal.events if isinstance(e.event, ChunkSent)]
    assert [c.seq for c in chunks] == list(range(9))
    assert [e.t for e in journal.events] == sorted(e.t for e in journal.events)
    assert journal.session_started().input == "talk.wav"


def test_crashed_session_keeps_unfinished_sentences_flagged(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    timeline = [*session_events(2, end=False), (7.0, SentenceRevised(sentence(2, 1, final=False)))]
    write_session(path, timeline, close=False)
    journal = read_journal(path)
    assert not journal.closed
    assert journal.ended is None
    assert [(s.key, s.final) for s in journal.sentences] == [("0:0", True), ("0:1", True), ("0:2", False)]
    assert [s.key for s in journal.unfinished] == ["0:2"]
    assert any("did not end cleanly" in w for w in journal.warnings)
    assert any("never finalized" in w for w in journal.warnings)
    assert journal.duration_s == 7.0


def test_truncated_last_line_is_skipped_and_counted(tmp_path: Path, clean_journal: bytes) -> None:
    path = tmp_path / "s.jsonl"
    cut = clean_journal.rstrip(b"\n")
    path.write_bytes(cut[: len(cut) - 10])  # the closing line loses its end
    journal = read_journal(path)
    assert journal.skipped_lines == 1
    assert not journal.closed
    assert any("skipped 1 damaged line" in w for w in journal.warnings)
    assert len(journal.sentences) == 4


def test_latest_version_wins_even_if_lines_are_out_of_order(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_session(
        path,
        [
            (1.0, SentenceRevised(sentence(0, 3, final=True, target="final text"))),
            (2.0, SentenceRevised(sentence(0, 2, final=False, target="older text"))),
        ],
    )
    assert [s.target_text for s in read_journal(path).sentences] == ["final text"]


def test_newer_format_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        json.dumps({"type": "JournalHeader", "format": 99, "started_at_utc": "2030-01-01T00:00:00Z"})
    )
    with pytest.raises(JournalError, match=r"newer tongchuan-tui \(format 99\); upgrade to read it"):
        read_journal(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such journal file"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a tongchuan-tui journal"),
        (b'{"hello": "world"}\n[1, 2]\n', "not a tongchuan-tui journal"),
    ],
)
def test_missing_or_foreign_files_are_refused_in_one_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "x.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(JournalError, match=message) as info:
        read_journal(path)
    assert "\n" not in str(info.value)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="is a directory"):
        read_journal(tmp_path)


@pytest.mark.parametrize(
    "bad",
    [
        '{"type":"SentenceRevised","sentence":{"key":"0:9"},"t":1}',
        '{"type":"SentenceRevised","sentence":{"key":"0:9","service_session":0,"se_id":9,"se_ver":1,'
        '"source_text":"a","target_text":"b","start_ms":"soon","end_ms":5,"final":true},"t":1}',
        '{"type":"ChunkSent","seq":1,"t":1}',
        '{"type":"MarkAdded","at_ms":1,"label":"x","t":-4}',
        '{"type":"MarkAdded","at_ms":1,"label":"x","extra":1,"t":1}',
        '{"type":"NoSuchEvent","t":1}',
        '{"type":"StatsUpdated","stats":{"rtt_recent_ms":["x"]},"t":1}',
        '{"type":"MarkAdded","at_ms":true,"label":"x","t":1}',
        "[]",
        "null",
        '"just a string"',
        "{" * 5000,
    ],
)
def test_ill_formed_lines_are_skipped(tmp_path: Path, clean_journal: bytes, bad: str) -> None:
    lines = clean_journal.split(b"\n")
    lines.insert(3, bad.encode())
    journal = parse_journal(b"\n".join(lines), FUZZ_PATH)
    assert journal.skipped_lines == 1
    assert [s.key for s in journal.sentences] == ["0:0", "0:1", "0:2", "0:3"]


def test_missing_header_is_a_warning_not_a_failure(clean_journal: bytes) -> None:
    without_header = b"\n".join(clean_journal.split(b"\n")[1:])
    journal = parse_journal(without_header, FUZZ_PATH)
    assert len(journal.sentences) == 4
    assert any("header line is missing" in w for w in journal.warnings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_fuzz_truncation_at_any_byte(clean_journal: bytes, cut: int) -> None:
    cut = cut % (len(clean_journal) + 1)
    data = clean_journal[:cut]
    try:
        journal = parse_journal(data, FUZZ_PATH)
    except JournalError:
        # Only when not even the header line survived.
        assert b"\n" not in data.rstrip(b"\n") or cut <= clean_journal.index(b"\n") + 1
        return
    recovered = {(s.key, s.target_text) for s in journal.sentences if s.final}
    intact = {v for line, v in final_sentence_lines(clean_journal).items() if line + b"\n" in data}
    assert intact <= recovered


garbage_line = st.one_of(
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ")),
    st.text(max_size=60).map(lambda s: s.replace("\n", " ").encode("utf-8")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=10,
    ).map(lambda v: json.dumps(v).encode()),
    st.sampled_from(["SentenceRevised", "ChunkSent", "JournalHeader", "JournalClosed", "MarkAdded"]).flatmap(
        lambda kind: st.dictionaries(
            st.sampled_from(["t", "sentence", "seq", "at_ms", "label", "format", "key"]),
            st.none()
            | st.integers()
            | st.text(max_size=5)
            | st.dictionaries(st.text(max_size=5), st.integers()),
            max_size=4,
        ).map(lambda d: json.dumps({"type": kind, **d}).encode())
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inserts=st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), garbage_line), max_size=8))
def test_fuzz_garbage_lines_anywhere(clean_journal: bytes, inserts: list[tuple[int, bytes]]) -> None:
    lines = clean_journal.split(b"\n")
    for position, garbage in inserts:
        lines.insert(position % (len(lines) + 1), garbage)
    journal = parse_journal(b"\n".join(lines), FUZZ_PATH)
    recovered = {(s.key, s.target_text) for s in journal.sentences if s.final}
    assert set(final_sentence_lines(clean_journal).values()) <= recovered
    assert journal.header.input == "talk.wav"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_fuzz_reordered_lines(clean_journal: bytes, seed: int) -> None:
    lines = [line for line in clean_journal.split(b"\n") if line]
    random.Random(seed).shuffle(lines)
    journal = parse_journal(b"\n".join(lines), FUZZ_PATH)
    recovered = {(s.key, s.target_text) for s in journal.sentences if s.final}
    assert set(final_sentence_lines(clean_journal).values()) == recovered
    assert journal.header.input == "talk.wav"
    assert journal.closed
    assert [e.t for e in journal.events] == sorted(e.t for e in journal.events)
    stats_lines = clean_journal.count(b'"type":"StatsUpdated"')
    assert stats_lines >= 2
    assert sum(isinstance(e.event, StatsUpdated) for e in journal.events) == stats_lines


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_fuzz_arbitrary_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(JournalError):
        parse_journal(data, FUZZ_PATH)

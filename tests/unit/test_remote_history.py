"""What a host keeps for late viewers: every sentence in its latest revision, in first-appearance order;
the start and end always; the latest stats only; packets counted, not kept; everything bounded."""

from __future__ import annotations

import json

from tongchuan_tui.pipeline.events import (
    ChunkSent,
    MarkAdded,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    StatsSnapshot,
    StatsUpdated,
    WarningRaised,
    event_from_json,
)
from tongchuan_tui.remote.history import EventHistory


def revised(i: int, ver: int, final: bool = False) -> SentenceRevised:
    sentence = Sentence(f"0:{i}", 0, str(i), ver, f"句{i}", f"S{i} v{ver}", i * 1000, i * 1000 + 900, final)
    return SentenceRevised(sentence)


def started() -> SessionStarted:
    return SessionStarted(1.0, "talk.wav", "zh", "en", "sync", 200, "127.0.0.1", True)


def test_sentences_keep_their_place_and_their_newest_revision() -> None:
    history = EventHistory()
    history.record(started())
    history.record(revised(1, 1))
    history.record(revised(2, 1))
    history.record(revised(1, 2, final=True))
    for seq in range(50):
        history.record(ChunkSent(seq, "u", seq * 200, 200, 6400, seq * 200, 3.0, "r", 0, False))
        history.record(StatsUpdated(StatsSnapshot(requests_ok=seq)))
    kept = history.events()
    assert [type(e).__name__ for e in kept] == [
        "SessionStarted",
        "SentenceRevised",
        "SentenceRevised",
        "StatsUpdated",
    ]
    assert [(e.sentence.key, e.sentence.se_ver) for e in kept if isinstance(e, SentenceRevised)] == [
        ("0:1", 2),
        ("0:2", 1),
    ]
    assert isinstance(kept[-1], StatsUpdated)
    assert kept[-1].stats.requests_ok == 49
    assert history.packets == 50


def test_lines_round_trip_with_numbers_that_say_what_they_carry() -> None:
    history = EventHistory()
    history.record(started())
    history.record(revised(1, 1))
    history.record(revised(1, 2, final=True))
    messages = [json.loads(line) for line in history.lines()]
    assert [m["n"] for m in messages] == [1, 3]  # the sentence's slot carries its newest revision's number
    assert event_from_json(messages[1]["event"]) == revised(1, 2, final=True)
    assert history.last_n == 3


def test_everything_is_bounded_but_the_start_and_the_end() -> None:
    history = EventHistory(max_sentences=3, max_other=2)
    history.record(started())
    for i in range(10):
        history.record(revised(i, 1, final=True))
        history.record(WarningRaised(f"warning {i}"))
    history.record(MarkAdded(5000, "late"))
    history.record(SessionEnded("input-ended", 10_000, 0))
    kept = history.events()
    assert isinstance(kept[0], SessionStarted)
    assert [e.sentence.key for e in kept if isinstance(e, SentenceRevised)] == ["0:7", "0:8", "0:9"]
    others = [e for e in kept if isinstance(e, WarningRaised | MarkAdded)]
    assert others == [WarningRaised("warning 9"), MarkAdded(5000, "late")]
    assert isinstance(kept[-1], SessionEnded)
    assert history.ended == kept[-1]

"""The journal writer: header, one line per event, downsampling, durability calls, and unwritable journals."""

from __future__ import annotations

import errno
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.unit.journal_helpers import (
    FAKE_SECRET_ID,
    FAKE_SECRET_KEY,
    FAKE_TOKEN,
    WallClock,
    chunk,
    sentence,
    session_events,
    started,
    write_session,
)

from tongchuan_tui.journal.format import FORMAT_VERSION
from tongchuan_tui.journal.reader import read_journal
from tongchuan_tui.journal.writer import JournalWriter, default_journal_path
from tongchuan_tui.pipeline.events import (
    LevelMeasured,
    SentenceRevised,
    SessionEnded,
    StatsSnapshot,
    StatsUpdated,
    event_from_json,
)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_header_then_one_line_per_event_then_closing_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    timeline = session_events(2)
    write_session(path, timeline)
    records = lines(path)

    header = records[0]
    assert header["type"] == "JournalHeader"
    assert header["format"] == FORMAT_VERSION
    assert header["started_at_utc"] == "2025-11-25T08:41:53Z"
    assert (header["input"], header["source"], header["target"], header["mode"]) == (
        "talk.wav",
        "zh",
        "en",
        "sync",
    )
    assert header["chunk_ms"] == 200
    assert header["endpoint_host"] == "127.0.0.1:8080"
    assert header["emulated"] is True
    assert header["app_version"]
    assert records[-1]["type"] == "JournalClosed"
    assert records[-1]["reason"] == "input-ended"
    assert records[-1]["final_sentences"] == 2
    body = records[1:-1]
    # Stats come every 3 s here, below the 5 s journal period: the first is kept, the next is held
    # and written before the end, so the journal still has the latest stats.
    stats = [r for r in body if r["type"] == "StatsUpdated"]
    assert [s["t"] for s in stats] == [2.2, 6.0]
    assert stats[-1]["stats"]["requests_ok"] == 6
    others = [r for r in body if r["type"] != "StatsUpdated"]
    expected = [(t, e) for t, e in timeline if not isinstance(e, StatsUpdated)]
    assert [r["t"] for r in others] == [round(t, 3) for t, _ in expected]
    assert [event_from_json({k: v for k, v in r.items() if k != "t"}) for r in others] == [
        e for _, e in expected
    ]


def test_lines_are_written_as_events_arrive_not_at_close(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    clock = WallClock()
    writer = JournalWriter(path, clock=clock, background_sync=False)
    writer(started())
    writer(chunk(0))
    writer(SentenceRevised(sentence(0)))
    assert [r["type"] for r in lines(path)] == ["JournalHeader", "ChunkSent", "SentenceRevised"]
    assert path.read_bytes().endswith(b"\n")
    writer.close()


def test_events_before_session_started_follow_the_header(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    writer = JournalWriter(path, clock=WallClock(), background_sync=False)
    writer(chunk(0))
    assert not path.exists()
    writer(started())
    writer.close()
    assert [r["type"] for r in lines(path)] == ["JournalHeader", "ChunkSent"]


def test_levels_are_downsampled_to_one_per_second(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    clock = WallClock()
    writer = JournalWriter(path, clock=clock, background_sync=False)
    writer(started())
    for _ in range(50):  # 5 s of levels at 10 per second
        writer(LevelMeasured(-20.0, -10.0, False, 0))
        clock.advance(0.1)
    writer.close()
    levels = [r for r in lines(path) if r["type"] == "LevelMeasured"]
    assert 5 <= len(levels) <= 6


def test_no_secret_reaches_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    settings = {
        "source": "zh",
        "secret_id": FAKE_SECRET_ID,
        "secret_key": FAKE_SECRET_KEY,
        "token": FAKE_TOKEN,
        "nested": {"api_key": FAKE_SECRET_KEY, "ok": 1, "list": [{"SecretKey": FAKE_SECRET_KEY}]},
    }
    write_session(path, session_events(1), settings=settings)
    raw = path.read_text(encoding="utf-8")
    for secret in (FAKE_SECRET_ID, FAKE_SECRET_KEY, FAKE_TOKEN):
        assert secret not in raw
    header = lines(path)[0]
    assert header["settings"] == {"source": "zh", "nested": {"ok": 1, "list": [{}]}}


def test_no_secret_from_real_settings_reaches_the_journal(tmp_path: Path) -> None:
    from tongchuan_tui.config import Settings, settings_for_display

    settings = Settings(secret_id=FAKE_SECRET_ID, secret_key=FAKE_SECRET_KEY, token=FAKE_TOKEN)
    path = tmp_path / "s.jsonl"
    write_session(path, session_events(1), settings=settings_for_display(settings))
    raw = path.read_text(encoding="utf-8")
    for secret in (FAKE_SECRET_ID, FAKE_SECRET_KEY, FAKE_TOKEN):
        assert secret not in raw
    assert lines(path)[0]["settings"]["chunk_ms"] == settings.chunk_ms


def test_final_sentences_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "s.jsonl"
    writer = JournalWriter(path, clock=WallClock(), background_sync=False)
    writer(started())
    after_header = len(synced)
    assert after_header >= 1
    writer(chunk(0))
    writer(SentenceRevised(sentence(0, 1, final=False)))
    assert len(synced) == after_header
    writer(SentenceRevised(sentence(0, 2, final=True)))
    assert len(synced) == after_header + 1
    writer.close()


def test_background_sync_thread_syncs_final_sentences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    synced = threading.Event()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        synced.set()

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "s.jsonl"
    writer = JournalWriter(path, clock=WallClock())
    writer(started())
    assert synced.wait(5.0)  # the header is synced
    synced.clear()
    writer(SentenceRevised(sentence(0, 2, final=True)))
    assert synced.wait(5.0)
    writer(SessionEnded("stopped", 100, 0))
    assert lines(path)[-1]["type"] == "JournalClosed"


def test_the_journal_is_private_and_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("previous\n")
    write_session(path, session_events(1))
    assert path.read_text().startswith("previous\n")
    fresh = tmp_path / "new" / "deeper" / "s.jsonl"
    write_session(fresh, session_events(1))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_unwritable_journal_is_reported_once_and_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the sessions directory should be")
    errors: list[str] = []
    clock = WallClock()
    writer = JournalWriter(blocker / "s.jsonl", on_error=errors.append, clock=clock, background_sync=False)
    writer(started())
    for n in range(5):
        clock.advance(0.5)
        writer(SentenceRevised(sentence(n)))
    writer(SessionEnded("stopped", 100, 0))
    assert len(errors) == 1
    assert "\n" not in errors[0]
    assert str(blocker / "s.jsonl") in errors[0]
    assert "cannot be written" in errors[0]


def test_journal_recovers_when_the_disk_is_writable_again(tmp_path: Path) -> None:
    blocker = tmp_path / "sessions"
    blocker.write_text("x")
    errors: list[str] = []
    clock = WallClock()
    path = blocker / "s.jsonl"
    writer = JournalWriter(
        path, on_error=errors.append, clock=clock, retry_every_s=5.0, background_sync=False
    )
    writer(started())
    writer(SentenceRevised(sentence(0)))
    blocker.unlink()  # the user frees the path
    clock.advance(1.0)
    writer(SentenceRevised(sentence(1)))
    assert not path.exists()  # not retried before the retry period
    clock.advance(5.0)
    writer(SentenceRevised(sentence(2)))
    writer(SessionEnded("stopped", 9000, 0))
    journal = read_journal(path)
    assert [s.key for s in journal.sentences] == ["0:0", "0:1", "0:2"]
    assert journal.closed
    assert len(errors) == 1


def test_disk_full_mid_session_loses_nothing_once_space_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.jsonl"
    errors: list[str] = []
    clock = WallClock()
    writer = JournalWriter(path, on_error=errors.append, clock=clock, background_sync=False)
    writer(started())
    writer(SentenceRevised(sentence(0)))
    real_write = os.write
    calls = {"n": 0}

    def full_disk(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:  # a torn write: half the line reaches the file
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    clock.advance(1.0)
    writer(SentenceRevised(sentence(1)))
    clock.advance(1.0)
    writer(SentenceRevised(sentence(2)))
    assert len(errors) == 1
    assert "No space left on device" in errors[0]
    monkeypatch.setattr(os, "write", real_write)
    clock.advance(10.0)
    writer(SentenceRevised(sentence(3)))
    writer(SessionEnded("stopped", 12000, 0))
    journal = read_journal(path)
    assert [s.key for s in journal.sentences] == ["0:0", "0:1", "0:2", "0:3"]
    assert journal.skipped_lines == 1  # the torn fragment, alone on its line
    assert journal.closed


def test_default_journal_path_is_named_by_time_and_languages_and_unique(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 25, 8, 41, 53, tzinfo=UTC)
    first = default_journal_path(tmp_path, moment, "zh", "en")
    assert first == tmp_path / "2026-11-25T08-41-53Z_zh-en.jsonl"
    first.write_text("")
    second = default_journal_path(tmp_path, moment.timestamp(), "zh", "en")
    assert second != first
    assert second.name.startswith("2026-11-25T08-41-53Z_zh-en")
    assert default_journal_path(tmp_path, moment.timestamp()).name == "2026-11-25T08-41-53Z.jsonl"


def test_stats_snapshot_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    snap = StatsSnapshot(
        requests_ok=3, rtt_p50_ms=40.0, rtt_recent_ms=(1.0, 2.0), rate_headroom={"TongChuanSync": 0.5}
    )
    write_session(path, [(1.0, StatsUpdated(snap))])
    assert [e.event for e in read_journal(path).events] == [StatsUpdated(snap)]

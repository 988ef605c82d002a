"""The sessions list (newest first, crashed ones included), pruning, ages, and the `sessions` command."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.unit.journal_helpers import WallClock, session_events, started

from tongchuan_tui.commands.sessions import sessions_command
from tongchuan_tui.journal.sessions import list_sessions, parse_age, prune, summarize
from tongchuan_tui.journal.writer import JournalWriter, default_journal_path
from tongchuan_tui.pipeline.events import SessionStarted

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def journal_at(
    directory: Path, when: datetime, sentences: int = 2, *, end: bool = True, target: str = "en"
) -> Path:
    """A journal of a session that started at `when`."""
    event = started(target=target)
    event = SessionStarted(
        **{**{f: getattr(event, f) for f in event.__dataclass_fields__}, "started_at_utc": when.timestamp()}
    )
    path = default_journal_path(directory, when, event.source, event.target)
    clock = WallClock(when.timestamp())
    writer = JournalWriter(path, clock=clock, background_sync=False)
    writer(event)
    for t, e in session_events(sentences, end=end):
        clock.now = when.timestamp() + t
        writer(e)
    writer.close()
    return path


def test_list_is_newest_first_with_the_details_a_user_checks(tmp_path: Path) -> None:
    old = journal_at(tmp_path, NOW - timedelta(days=3), 2)
    new = journal_at(tmp_path, NOW - timedelta(hours=1), 3, end=False, target="ja")
    (tmp_path / "notes.txt").write_text("not a journal")
    summaries = list_sessions(tmp_path)
    assert [s.path for s in summaries] == [new, old]
    latest = summaries[0]
    assert latest.started_at == NOW - timedelta(hours=1)
    assert (latest.source, latest.target, latest.input) == ("zh", "ja", "talk.wav")
    assert latest.sentences == 3
    assert latest.errors == 1
    assert not latest.closed
    assert latest.status == "crashed"
    assert latest.duration_s == pytest.approx(8.5)
    assert summaries[1].closed
    assert summaries[1].status == "closed"
    assert summaries[1].duration_s == 6.0


def test_damaged_and_newer_journals_are_listed_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "garbage.jsonl").write_bytes(b"\x00\x01 not json\n")
    newer = {
        "type": "JournalHeader",
        "format": 9,
        "started_at_utc": "2026-01-01T00:00:00Z",
        "input": "",
        "source": "",
        "target": "",
    }
    (tmp_path / "newer.jsonl").write_text(json.dumps(newer) + "\n")
    summaries = {s.path.name: s for s in list_sessions(tmp_path)}
    assert summaries["garbage.jsonl"].status == "unreadable"
    assert "newer tongchuan-tui (format 9)" in (summaries["newer.jsonl"].problem or "")


def test_missing_directory_lists_nothing(tmp_path: Path) -> None:
    assert list_sessions(tmp_path / "nope") == []


def test_a_killed_session_mid_line_is_still_summarized(tmp_path: Path) -> None:
    path = journal_at(tmp_path, NOW, 2, end=False)
    with path.open("ab") as fh:
        fh.write(b'{"sentence":{"key":"0:7","serv')
    summary = summarize(path)
    assert summary.status == "crashed"
    assert summary.sentences == 2


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        ("90m", timedelta(minutes=90)),
        (" 1.5D ", timedelta(days=1.5)),
    ],
)
def test_parse_age(text: str, delta: timedelta) -> None:
    assert parse_age(text) == delta


@pytest.mark.parametrize("text", ["", "30", "d", "30 days", "-3d", "3y"])
def test_parse_age_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="not an age"):
        parse_age(text)


def test_prune_removes_only_older_sessions_and_dry_run_removes_nothing(tmp_path: Path) -> None:
    old = journal_at(tmp_path, NOW - timedelta(days=40))
    recent = journal_at(tmp_path, NOW - timedelta(days=2))
    unreadable = tmp_path / "broken.jsonl"
    unreadable.write_text("garbage\n")
    os.utime(unreadable, (0, (NOW - timedelta(days=60)).timestamp()))
    assert sorted(prune(tmp_path, timedelta(days=30), NOW, dry_run=True)) == sorted([old, unreadable])
    assert old.exists()
    assert unreadable.exists()
    assert sorted(prune(tmp_path, timedelta(days=30), NOW)) == sorted([old, unreadable])
    assert not old.exists()
    assert not unreadable.exists()
    assert recent.exists()


def test_sessions_command_lists_and_prints_json(tmp_path: Path) -> None:
    from tongchuan_tui.config import Settings

    journal_at(tmp_path, NOW - timedelta(days=1))
    crashed = journal_at(tmp_path, NOW, end=False)
    obj = {"settings": Settings(journal_dir=tmp_path)}
    runner = CliRunner()
    result = runner.invoke(sessions_command, [], obj=obj)
    assert result.exit_code == 0, result.output
    assert result.output.index("2026-11-25 12:00:00 UTC") < result.output.index("2026-11-24 12:00:00 UTC")
    assert "[crashed]" in result.output
    assert str(crashed) in result.output
    result = runner.invoke(sessions_command, ["--json"], obj=obj)
    listed = json.loads(result.output)
    assert [s["status"] for s in listed] == ["crashed", "closed"]
    assert listed[0]["started_at_utc"] == "2026-11-25T12:00:00Z"
    assert listed[0]["sentences"] == 2


def test_sessions_command_uses_the_platform_data_dir_by_default(isolated_home: Path) -> None:
    directory = isolated_home / ".local" / "share" / "tongchuan-tui" / "sessions"
    journal_at(directory, NOW)
    result = CliRunner().invoke(sessions_command, [])
    assert result.exit_code == 0
    assert str(directory) in result.output


def test_prune_command_says_what_it_removes(tmp_path: Path) -> None:
    from tongchuan_tui.config import Settings

    old = journal_at(tmp_path, datetime.now(UTC) - timedelta(days=45))
    obj = {"settings": Settings(journal_dir=tmp_path)}
    runner = CliRunner()
    result = runner.invoke(sessions_command, ["prune", "--older-than", "30d", "--dry-run"], obj=obj)
    assert result.exit_code == 0
    assert f"would remove {old}" in result.output
    assert old.exists()
    result = runner.invoke(sessions_command, ["prune", "--older-than", "30d"], obj=obj)
    assert result.exit_code == 0
    assert f"removed {old}" in result.output
    assert not old.exists()
    result = runner.invoke(sessions_command, ["prune", "--older-than", "soon"], obj=obj)
    assert result.exit_code == 2
    assert "not an age" in result.stderr

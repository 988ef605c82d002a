"""A journaling process killed with SIGKILL mid-session: its journal is still listed, readable and exportable.

Two processes are killed: a stand-in (journal_child.py: a real JournalWriter fed events as fast as it can),
and the real headless CLI interpreting a file against the emulator. A full CLI run checks that a journal
holds every sentence and that no secret reaches any journal or export.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import srt
from tests.functional.audio_helpers import tone_wav

from tongchuan_tui.emulator.testing import TEST_SECRET_ID, TEST_SECRET_KEY, running_emulator
from tongchuan_tui.journal.export import FORMATS, export
from tongchuan_tui.journal.reader import Journal, read_journal
from tongchuan_tui.journal.sessions import list_sessions
from tongchuan_tui.journal.writer import default_journal_path

CHILD = Path(__file__).with_name("journal_child.py")
CHILD_SECRET = "CHILDfakeSECRETkey0123456789"
CONFIG_SECRET_ID = "AKIDconfigFAKEid00000000000000000"
CONFIG_SECRET_KEY = "configFAKEsecretKEY000000000000"

CUES: dict[str, Any] = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": 200, "end_ms": 900, "source": "第一句。", "target": "Sentence one."},
        {"start_ms": 1100, "end_ms": 1800, "source": "第二句。", "target": "Sentence two."},
        {"start_ms": 2000, "end_ms": 2700, "source": "第三句。", "target": "Sentence three."},
        {"start_ms": 2900, "end_ms": 3600, "source": "第四句。", "target": "Sentence four."},
    ],
}


def final_targets_on_disk(path: Path) -> dict[str, str]:
    """key → target text of every final sentence whose line is complete in the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    found = {}
    for line in raw.split(b"\n")[:-1]:  # the last piece has no newline yet: maybe being written
        if b'"SentenceRevised"' in line:
            sentence = json.loads(line)["sentence"]
            if sentence["final"]:
                found[sentence["key"]] = sentence["target_text"]
    return found


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until true or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def check_recovered(journal_path: Path, expected: dict[str, str], secrets: tuple[str, ...]) -> Journal:
    """What a user checks after a crash: every final sentence read, listed, exportable, no secret."""
    journal = read_journal(journal_path)
    assert not journal.closed
    assert journal.skipped_lines <= 1
    recovered = {s.key: s.target_text for s in journal.sentences if s.final}
    assert expected.items() <= recovered.items()

    listed = list_sessions(journal_path.parent)
    assert [s.path for s in listed] == [journal_path]
    assert listed[0].status == "crashed"
    assert listed[0].sentences >= len(expected)

    cues = list(srt.parse(export(journal, "srt")))
    assert len(cues) == sum(1 for s in journal.sentences if s.target_text)
    for fmt in FORMATS:
        out = export(journal, fmt, "both")
        for text in expected.values():
            assert text in out, fmt
        for secret in secrets:
            assert secret not in out
    raw = journal_path.read_text(encoding="utf-8", errors="replace")
    for secret in secrets:
        assert secret not in raw
    return journal


def test_killed_journal_writer_process_loses_nothing_finalized(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    path = default_journal_path(sessions, time.time(), "zh", "en")
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: len(final_targets_on_disk(path)) >= 30, 30.0, "30 final sentences in the journal")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    expected = final_targets_on_disk(path)
    journal = check_recovered(path, expected, (CHILD_SECRET,))
    assert journal.header.input == "child.wav"


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TENCENTCLOUD_SECRET_ID": TEST_SECRET_ID,
            "TENCENTCLOUD_SECRET_KEY": TEST_SECRET_KEY,
            "HOME": str(home),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


async def wait_async(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.realtime
async def test_cli_session_killed_mid_session_is_listed_read_and_exported(
    tmp_path: Path, isolated_home: Path
) -> None:
    audio = tone_wav(tmp_path / "talk.wav", 8.0)
    journal_path = tmp_path / "sessions" / "killed.jsonl"
    async with running_emulator(cues=CUES) as emulator:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tongchuan_tui",
            "--input",
            str(audio),
            "--plain",
            "--log",
            str(journal_path),
            "--endpoint",
            emulator.url,
            env=cli_env(isolated_home),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await wait_async(
                lambda: len(final_targets_on_disk(journal_path)) >= 2 or proc.returncode is not None,
                30.0,
                "2 final sentences in the journal",
            )
        finally:
            if proc.returncode is None:
                proc.kill()
            _, stderr = await proc.communicate()
    assert proc.returncode == -signal.SIGKILL, stderr.decode(errors="replace")
    expected = final_targets_on_disk(journal_path)
    assert set(expected.values()) >= {"Sentence one.", "Sentence two."}
    check_recovered(journal_path, expected, (TEST_SECRET_KEY,))


@pytest.mark.realtime
async def test_cli_session_journal_has_every_sentence_and_no_secret(
    tmp_path: Path, isolated_home: Path
) -> None:
    audio = tone_wav(tmp_path / "talk.wav", 4.2)
    journal_path = tmp_path / "full.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[credentials]\nsecret_id = "{CONFIG_SECRET_ID}"\nsecret_key = "{CONFIG_SECRET_KEY}"\n',
        encoding="utf-8",
    )
    config.chmod(0o600)
    async with running_emulator(cues=CUES) as emulator:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tongchuan_tui",
            "--config",
            str(config),
            "--input",
            str(audio),
            "--plain",
            "--log",
            str(journal_path),
            "--endpoint",
            emulator.url,
            env=cli_env(isolated_home),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode(errors="replace")
    journal = read_journal(journal_path)
    assert journal.closed
    assert [s.target_text for s in journal.sentences if s.final] == [c["target"] for c in CUES["cues"]]
    secrets = (TEST_SECRET_KEY, CONFIG_SECRET_ID, CONFIG_SECRET_KEY)
    raw = journal_path.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret not in raw
    for fmt in FORMATS:
        for text in ("target", "source", "both"):
            out = export(journal, fmt, text)
            for secret in secrets:
                assert secret not in out
    for cue in CUES["cues"]:
        assert cue["target"] in export(journal, "txt")
    assert len(list(srt.parse(export(journal, "srt")))) == len(CUES["cues"])

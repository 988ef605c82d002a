"""The real command line end to end against the emulator: a microphone session ended by SIGINT, and the
interpreter UI in a real terminal (tmux), read from the screen as a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.functional.audio_helpers import write_asoundrc, write_wav
from tests.functional.tmux_helpers import tmux, tmux_env_args

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread
from tongchuan_tui.journal.reader import read_journal

CUES = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": 200, "end_ms": 1400, "source": "各位早上好。", "target": "Good morning, everyone."},
        {"start_ms": 1800, "end_ms": 3000, "source": "会议现在开始。", "target": "The meeting starts now."},
    ],
}
SPEECH = [(200, 1400), (1800, 3000)]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=CUES) as handle:
        yield handle


def cli_env(home: Path, handle: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    env.update(
        HOME=str(home),
        TENCENTCLOUD_SECRET_ID=handle.secret_id,
        TENCENTCLOUD_SECRET_KEY=handle.secret_key,
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.mark.realtime
def test_sigint_ends_a_microphone_session_with_is_end(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    raw = tmp_path / "speech.raw"
    raw.write_bytes(speech_like_pcm(4000, SPEECH, seed=3))
    write_asoundrc(isolated_home, raw)
    journal = tmp_path / "mic.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tongchuan_tui",
            "--input",
            "mic",
            "--plain",
            "--endpoint",
            emulator.url,
            "--log",
            str(journal),
        ],
        env=cli_env(isolated_home, emulator),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline() if process.stdout else ""
        assert "各位早上好" in first_line, first_line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == exitcodes.INTERRUPTED, err
    assert "Traceback" not in err

    sessions = emulator.state.sessions
    assert sessions, "the emulator saw no session"
    last = emulator.state.session(emulator.state.session_uuids[-1])
    assert last.ended, "the last service session was not ended with IsEnd"
    for uuid in emulator.state.session_uuids:
        seen = emulator.state.session(uuid)
        assert seen.seqs == list(range(len(seen.seqs)))
        assert not seen.pacing_violations
        assert not seen.gap_violations
        assert all(6400 <= size <= 16000 for size in seen.sizes)

    # ALSA's file plugin over a null slave captures far faster than real time, so the live backlog drops
    # most of the audio and which cue is heard when varies: judge the ending, not the words.
    recorded = read_journal(journal)
    assert recorded.closed
    printed = [s for s in recorded.sentences if s.final and s.source_text in first_line + out]
    assert printed, "the sentence printed before SIGINT is not in the journal"


@pytest.mark.realtime
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup")
def test_ui_in_tmux_shows_both_texts_and_stats_and_quits_cleanly(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    # A WAV the file source decodes with PyAV, as a user's recording would be.
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(3600, SPEECH, seed=5))
    journal = tmp_path / "ui.jsonl"
    exit_file = tmp_path / "exit-code"
    env = cli_env(isolated_home, emulator)
    env["TERM"] = "xterm-256color"
    socket = str(tmp_path / "tmux.sock")
    command = (
        f"{sys.executable} -m tongchuan_tui --input {wav} --endpoint {emulator.url} --log {journal}; "
        f"echo $? > {exit_file}; sleep 60"
    )
    tmux("-S", socket, "new-session", "-d", "-s", "ui", "-x", "120", "-y", "32", *tmux_env_args(env), command)
    try:

        def screen() -> str:
            return tmux("-S", socket, "capture-pane", "-p", "-t", "ui")

        wait_for(lambda: "The meeting starts now." in screen(), 30, "the second translation on screen")
        shown = screen()
        assert "各位早上好。" in shown
        assert "Good morning, everyone." in shown
        assert "EMULATOR" in shown
        # Below 120 columns the stats are one summary line; `s` would hide it.
        wait_for(lambda: "rt now" in screen(), 10, "the stats summary line")
        assert re.search(r"lag \d+\.\d s", screen()), "the lag behind the speaker is not on screen"
        tmux("-S", socket, "send-keys", "-t", "ui", "q")
        wait_for(exit_file.exists, 30, "the app to exit")
        wait_for(lambda: exit_file.read_text().strip() != "", 5, "the exit code")
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)
    assert exit_file.read_text().strip() == "0"
    recorded = read_journal(journal)
    finals = {s.target_text for s in recorded.sentences if s.final}
    assert {"Good morning, everyone.", "The meeting starts now."} <= finals
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["type"] == "JournalHeader"

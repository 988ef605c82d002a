"""The terminal dies under a running UI (an SSH drop, tmux killed): the session ends exactly like `q`.

Judged from outside, as the user would find it afterwards: the emulator saw the final IsEnd, the journal is
closed and holds every sentence the service finalised, and the log shows no error. (Textual draws on
stderr, so a traceback would have gone to the dead terminal; whatever fails in the app or the session is
also logged, so the log is where a failure would show.)
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.functional.audio_helpers import write_wav
from tests.functional.test_cli_live import cli_env, wait_for
from tests.functional.tmux_helpers import tmux, tmux_env_args

from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import run_emulator_in_thread
from tongchuan_tui.journal.reader import read_journal

SENTENCES = 12
SPEECH = [(200 + 2000 * n, 1500 + 2000 * n) for n in range(SENTENCES)]
CUES: dict[str, Any] = {
    "source": "zh",
    "target": "en",
    "cues": [
        {
            "start_ms": start,
            "end_ms": end,
            "source": f"第{n + 1}句话。",
            "target": f"Sentence number {n + 1}.",
        }
        for n, (start, end) in enumerate(SPEECH)
    ],
}


def process_gone(pid: int) -> bool:
    """Whether `pid` has exited (a zombie nobody reaped counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.mark.realtime
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup")
def test_killing_the_terminal_ends_the_session_like_q(isolated_home: Path, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(2000 * SENTENCES + 500, SPEECH, seed=9))
    journal = tmp_path / "ui.jsonl"
    pid_file = tmp_path / "pid"
    socket = str(tmp_path / "tmux.sock")
    with run_emulator_in_thread(cues=CUES) as emulator:
        env = cli_env(isolated_home, emulator)
        env["TERM"] = "xterm-256color"
        # The interpreter is the terminal's own process, as a login shell's `exec` would make it.
        command = (
            f"echo $$ > {pid_file}; exec {sys.executable} -m tongchuan_tui --input {wav} "
            f"--endpoint {emulator.url} --log {journal}"
        )
        terminal = ("-x", "120", "-y", "32", *tmux_env_args(env))
        tmux("-S", socket, "new-session", "-d", "-s", "ui", *terminal, command)
        try:
            wait_for(
                lambda: "Sentence number 2." in tmux("-S", socket, "capture-pane", "-p", "-t", "ui"),
                30,
                "the second translation on screen",
            )
        finally:
            # The terminal vanishes mid-session, mid-sentence.
            subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)
        pid = int(pid_file.read_text())
        wait_for(lambda: process_gone(pid), 30, "the interpreter to exit after the hang-up")
        state = emulator.state

    uuids = state.session_uuids
    assert uuids, "the emulator saw no session"
    last = state.session(uuids[-1])
    assert last.ended, "the last service session was not ended with IsEnd"
    assert last.audio_ms < 2000 * SENTENCES, "the whole file was sent: the hang-up came too late to judge"
    said = {target for uuid in uuids for _, target in state.session(uuid).final_texts}
    assert "Sentence number 2." in said

    recorded = read_journal(journal)
    assert recorded.closed, "the journal has no closing line"
    journaled = {s.target_text for s in recorded.sentences if s.final}
    assert said <= journaled, f"said but not journaled: {sorted(said - journaled)}"
    assert recorded.ended is not None
    assert recorded.ended.reason == "hangup"
    (log_file,) = isolated_home.rglob("tongchuan-tui.log")
    logged = log_file.read_text()
    assert "the terminal hung up" in logged
    assert " ERROR " not in logged
    assert "Traceback" not in logged


@pytest.mark.realtime
def test_sighup_ends_a_headless_session_gracefully(isolated_home: Path, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(2000 * SENTENCES + 500, SPEECH, seed=9))
    journal = tmp_path / "plain.jsonl"
    with run_emulator_in_thread(cues=CUES) as emulator:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "tongchuan_tui", "--input", str(wav), "--plain"),
                *("--endpoint", emulator.url, "--log", str(journal)),
            ],
            env=cli_env(isolated_home, emulator),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # the first sentence's source line
            translation = process.stdout.readline()
            assert "Sentence number 1." in translation, first + translation
            process.send_signal(signal.SIGHUP)
            _, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        state = emulator.state
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert state.session(state.session_uuids[-1]).ended
    recorded = read_journal(journal)
    assert recorded.closed
    assert recorded.ended is not None
    assert recorded.ended.reason == "hangup"
    said = {target for uuid in state.session_uuids for _, target in state.session(uuid).final_texts}
    assert said <= {s.target_text for s in recorded.sentences if s.final}

"""The screen tells the truth during an outage: in tmux at 80×24, the emulator (a separate process) is killed
mid-session and started again on the same port; the header says so within 2 s, with the reason, and says
"live" again once packets get through. The lag behind the speaker is on screen throughout."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.functional.audio_helpers import write_wav
from tests.functional.test_cli_live import wait_for
from tests.functional.tmux_helpers import tmux

from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import TEST_SECRET_ID, TEST_SECRET_KEY

SENTENCES = 20
SPEECH = [(200 + 2000 * n, 1500 + 2000 * n) for n in range(SENTENCES)]
CUES: dict[str, Any] = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": start, "end_ms": end, "source": f"第{n + 1}句话。", "target": f"Sentence {n + 1}."}
        for n, (start, end) in enumerate(SPEECH)
    ],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_emulator(port: int, cues: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tongchuan_tui", "emulator", "--port", str(port), "--cues", str(cues)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.endswith(f":{port}/"), url
    return process


@pytest.mark.realtime
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup")
def test_killing_the_service_turns_the_header_to_reconnecting_and_back_to_live(
    isolated_home: Path, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(2000 * SENTENCES, SPEECH, seed=4))
    cues = tmp_path / "cues.json"
    cues.write_text(json.dumps(CUES))
    port = free_port()
    env = {
        "HOME": str(isolated_home),
        "PATH": "/usr/bin:/bin",
        "TERM": "xterm-256color",
        "TENCENTCLOUD_SECRET_ID": TEST_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": TEST_SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[key] = str(isolated_home / key.lower())
    emulator = start_emulator(port, cues, env)
    sock = str(tmp_path / "tmux.sock")
    journal = tmp_path / "ui.jsonl"
    exit_file = tmp_path / "exit-code"
    command = (
        f"{sys.executable} -m tongchuan_tui --input {wav} --endpoint http://127.0.0.1:{port}/ "
        f"--log {journal}; echo $? > {exit_file}; sleep 60"
    )
    env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    tmux(
        "-S", sock, "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", *env_args, command + "; sleep 60"
    )
    try:

        def screen() -> str:
            return tmux("-S", sock, "capture-pane", "-p", "-t", "ui")

        def header() -> str:
            return screen().splitlines()[0]

        wait_for(lambda: "Sentence 2." in screen(), 30, "the second translation")
        wait_for(lambda: "● live" in header(), 5, "a live header")
        assert re.search(r"lag \d+\.\d s", screen()), "the lag behind the speaker is not on screen"

        emulator.send_signal(signal.SIGKILL)
        emulator.wait(timeout=10)
        killed = time.monotonic()
        wait_for(lambda: "reconnecting · service unreachable" in header(), 2.0, "the outage in the header")
        assert time.monotonic() - killed <= 2.0
        assert "● live" not in header()

        # Back after the first rollover (the new service session starts at Seq 0, as a fresh emulator wants).
        wait_for(lambda: '"rollover"' in journal.read_text(), 15, "a rollover in the journal")
        emulator = start_emulator(port, cues, env)
        wait_for(lambda: "● live" in header(), 15, "the header back to live")
        assert re.search(r"lag \d+\.\d s", screen())
        tmux("-S", sock, "send-keys", "-t", "ui", "q")
        wait_for(lambda: exit_file.exists() and exit_file.read_text().strip() != "", 30, "the app to exit")
        # One line is left on the terminal: how it ended, how much, where the journal is.
        summary = [line for line in screen().splitlines() if line.startswith("tongchuan-tui: session")]
        assert summary, screen()
        assert "session stopped:" in summary[0]
        assert " sentences in 0:00:" in summary[0]
        assert str(journal.name) in screen()
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True, check=False)
        if emulator.poll() is None:
            emulator.terminate()
            emulator.wait(timeout=10)

"""Colours that survive: in tmux with TERM=xterm, screen and linux (16 colours), xterm-256color and
truecolour, the final translations are drawn in no shade of red (read back from the escape codes tmux holds
for each cell)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.functional.audio_helpers import write_wav
from tests.functional.test_cli_live import CUES, SPEECH, cli_env, wait_for
from tests.functional.tmux_helpers import tmux

from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import run_emulator_in_thread

SGR = re.compile(r"\x1b\[([0-9;]*)m")
RED = {"31", "91", "38;5;1", "38;5;9", "38;5;88", "38;5;124", "38;5;160", "38;5;196", "38;5;202", "38;5;208"}


def foreground_at(line: str, text: str) -> str | None:
    """The foreground colour (SGR form: `91`, `38;5;9`, `38;2;r;g;b`) where `text` starts on a line."""
    colour: str | None = None
    for match in SGR.finditer(line[: line.index(text)]):
        params = match.group(1).split(";") if match.group(1) else ["0"]
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("0", "", "39"):
                colour = None
            elif p == "38" and i + 1 < len(params):
                width = 3 if params[i + 1] == "5" else 5
                colour = ";".join(params[i : i + width])
                i += width - 1
            elif p == "48" and i + 1 < len(params):
                i += 2 if params[i + 1] == "5" else 4
            elif 30 <= int(p or 0) <= 37 or 90 <= int(p or 0) <= 97:
                colour = p
            i += 1
    return colour


def is_red(colour: str | None) -> bool:
    """Whether an SGR foreground is a red (an ANSI or 256-colour red, or an RGB far redder than anything)."""
    if colour is None:
        return False
    if colour.startswith("38;2;"):
        r, g, b = (int(part) for part in colour.split(";")[2:5])
        return r > 160 and g < 110 and b < 110
    return colour in RED


@pytest.mark.realtime
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup")
@pytest.mark.parametrize("term", ["xterm", "screen", "linux", "xterm-256color", "truecolor"])
def test_no_final_translation_is_red_on_a_16_colour_terminal(
    isolated_home: Path, tmp_path: Path, term: str
) -> None:
    wav = write_wav(tmp_path / "talk.wav", speech_like_pcm(3600, SPEECH, seed=5))
    with run_emulator_in_thread(cues=CUES) as emulator:
        env = cli_env(isolated_home, emulator)
        colorterm = "COLORTERM=truecolor " if term == "truecolor" else ""
        term = "xterm-256color" if term == "truecolor" else term
        env["TERM"] = term
        env.pop("COLORTERM", None)
        socket = str(tmp_path / "tmux.sock")
        exit_file = tmp_path / "exit-code"
        command = (
            # tmux gives its panes its own TERM (tmux-256color): the app is told the terminal's here.
            f"{colorterm}TERM={term} {sys.executable} -m tongchuan_tui --input {wav} "
            f"--endpoint {emulator.url} --layout side --log {tmp_path / 'ui.jsonl'}; "
            f"echo $? > {exit_file}; sleep 60"
        )
        keys = ("HOME", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TERM", "PATH")
        env_args = [arg for key in keys if key in env for arg in ("-e", f"{key}={env[key]}")]
        tmux("-S", socket, "new-session", "-d", "-s", "ui", "-x", "120", "-y", "30", *env_args, command)
        try:

            def escaped() -> str:
                return tmux("-S", socket, "capture-pane", "-e", "-p", "-t", "ui")

            final = "The meeting starts now."
            wait_for(lambda: final in escaped(), 30, "the final translation on screen")
            wait_for(lambda: "›" not in SGR.sub("", escaped()).split("Good morning")[1], 10, "finals")
            lines = [line for line in escaped().splitlines() if final in line or "Good morning" in line]
            assert lines
            for line in lines:
                for text in (t for t in ("Good morning, everyone.", final) if t in line):
                    colour = foreground_at(line, text)
                    assert not is_red(colour), f"{text!r} is drawn red ({colour}) on TERM={term}"
            tmux("-S", socket, "send-keys", "-t", "ui", "q")
            wait_for(exit_file.exists, 30, "the app to exit")
        finally:
            subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, check=False)

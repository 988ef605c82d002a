"""Bad input at the command line: one clear line on stderr naming what is wrong, and a distinct exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.functional.audio_helpers import write_wav

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import run_emulator_in_thread


def run_cli(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess, with the test's HOME and nothing on stdin."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    full_env.update(env or {})
    full_env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


CREDS = {"TENCENTCLOUD_SECRET_ID": "cli-test-id", "TENCENTCLOUD_SECRET_KEY": "cli-test-secret-key-value"}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_missing_credentials_say_where_they_were_looked_for(isolated_home: Path, tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"")
    result = run_cli("--input", str(audio), "--plain", home=isolated_home)
    assert result.returncode == exitcodes.NO_CREDENTIALS
    line = one_line(result.stderr)
    assert "TENCENTCLOUD_SECRET_ID" in line
    assert ".tencentcloud/credentials" in line
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["no-such-talk.mp3", "notes.txt"])
def test_unusable_input_file_is_one_line_and_exit_4(isolated_home: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("this is not audio\n" * 100)
    result = run_cli(
        *("--input", str(path), "--plain", "--no-log", "--endpoint", "http://127.0.0.1:9/"),
        home=isolated_home,
        env=CREDS,
    )
    assert result.returncode == exitcodes.BAD_INPUT
    assert name in one_line(result.stderr)
    assert "Traceback" not in result.stderr
    assert CREDS["TENCENTCLOUD_SECRET_KEY"] not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--source", "en", "--target", "ja"), "ja"),
        (("--chunk-ms", "100"), "chunk"),
        (("--endpoint", "ftp://example.com/"), "endpoint"),
        (("--jsonl",), "--jsonl"),
        (("--no-log", "--log", "x.jsonl"), "--no-log"),
    ],
)
def test_bad_settings_are_usage_errors(isolated_home: Path, args: tuple[str, ...], needle: str) -> None:
    result = run_cli(*args, "--plain", "--input", "-", home=isolated_home, env=CREDS)
    assert result.returncode == exitcodes.USAGE
    assert needle in one_line(result.stderr)


def test_unknown_config_key_names_the_key_and_file(isolated_home: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('source = "zh"\nsourse_lang = "en"\n')
    result = run_cli("--config", str(config), "config", home=isolated_home)
    assert result.returncode == exitcodes.USAGE
    line = one_line(result.stderr)
    assert "sourse_lang" in line
    assert str(config) in line


def test_help_documents_exit_codes(isolated_home: Path) -> None:
    result = run_cli("--help", home=isolated_home)
    assert result.returncode == 0
    for code in (exitcodes.NO_CREDENTIALS, exitcodes.BAD_INPUT, exitcodes.SERVICE_REJECTED, 130):
        assert f"{code:>3}  " in result.stdout


def test_audio_on_stdin_needs_headless_output(isolated_home: Path) -> None:
    result = run_cli("--input", "-", home=isolated_home, env=CREDS)
    assert result.returncode == exitcodes.USAGE
    assert "--plain" in one_line(result.stderr)


def test_ui_refuses_an_unusable_input_before_taking_the_terminal(isolated_home: Path, tmp_path: Path) -> None:
    text = tmp_path / "slides.txt"
    text.write_text("not audio\n" * 50)
    for spec, needle in ((str(tmp_path / "gone.wav"), "gone.wav"), (str(text), "slides.txt")):
        result = run_cli("--input", spec, "--no-log", home=isolated_home, env=CREDS)
        assert result.returncode == exitcodes.BAD_INPUT
        assert needle in one_line(result.stderr)
        assert result.stdout == ""


def test_an_unwritable_journal_is_said_once_and_interpretation_goes_on(
    isolated_home: Path, tmp_path: Path
) -> None:
    audio = tmp_path / "talk.wav"
    write_wav(audio, speech_like_pcm(1500, [(200, 1300)], seed=5))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the journal's folder should be\n")
    with run_emulator_in_thread() as emulator:
        result = run_cli(
            *("--input", str(audio), "--plain", "--endpoint", emulator.url),
            *("--log", str(blocker / "j.jsonl")),
            home=isolated_home,
            env={
                "TENCENTCLOUD_SECRET_ID": emulator.secret_id,
                "TENCENTCLOUD_SECRET_KEY": emulator.secret_key,
            },
        )
    assert result.returncode == exitcodes.OK, result.stderr
    assert result.stdout.strip(), "the sentence is still printed"
    said = [line for line in result.stderr.splitlines() if "cannot be written" in line]
    # The journal's own report and the session's WarningRaised used to both reach stderr: the same news twice.
    assert len(said) == 1, result.stderr
    assert str(blocker / "j.jsonl") in said[0]

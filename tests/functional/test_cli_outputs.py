"""Outputs and messages as a user meets them, through the real command line against the emulator: lost output
(a full disk is /dev/full) exits OUTPUT_LOST (9) with a summary, every output path is tried at start, each
message is said once and says what happened (a recovered rollover, a failed session in `sessions`, one time
format)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.functional.audio_helpers import write_wav
from tests.functional.test_cli_errors import one_line
from tests.functional.test_cli_live import cli_env

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.faults import FaultConfig
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread

CUES = {
    "source": "zh",
    "target": "en",
    "cues": [
        {"start_ms": 200, "end_ms": 1400, "source": "各位早上好。", "target": "Good morning, everyone."},
        {"start_ms": 1800, "end_ms": 3000, "source": "会议现在开始。", "target": "The meeting starts now."},
    ],
}


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=CUES) as handle:
        yield handle


@pytest.fixture
def talk(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "talk.wav", speech_like_pcm(3200, [(200, 1400), (1800, 3000)], seed=5))


def run(
    *args: str,
    home: Path,
    handle: EmulatorHandle,
    stdout: object = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The real command line against `handle`, nothing on stdin."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "tongchuan_tui", *args, "--endpoint", handle.url],
        env={**cli_env(home, handle), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=90,
        check=False,
    )


def last_line(stderr: str) -> str:
    return [line for line in stderr.splitlines() if line.strip()][-1]


# --- item 7: exit codes that tell the truth ---


def test_stdout_on_a_full_disk_exits_output_lost_saying_what_was_lost(
    isolated_home: Path, talk: Path, emulator: EmulatorHandle
) -> None:
    with open("/dev/full", "w") as full:
        done = run(
            "--input", str(talk), "--plain", "--no-log", home=isolated_home, handle=emulator, stdout=full
        )
    assert done.returncode == exitcodes.OUTPUT_LOST, done.stderr
    summary = last_line(done.stderr)
    assert summary.startswith("tongchuan-tui: lost output: stdout: 2 sentence(s)")
    assert "No space left on device" in summary
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr


def test_a_journal_that_cannot_be_written_exits_output_lost_and_is_said_once(
    isolated_home: Path, talk: Path, emulator: EmulatorHandle
) -> None:
    done = run("--input", str(talk), "--plain", "--log", "/dev/full", home=isolated_home, handle=emulator)
    assert done.returncode == exitcodes.OUTPUT_LOST, done.stderr
    assert "Good morning, everyone." in done.stdout  # the interpretation itself went on
    assert "journal /dev/full was never written" in last_line(done.stderr)
    assert sum("cannot be written" in line for line in done.stderr.splitlines()) == 1


def test_a_recording_that_fails_midway_exits_output_lost(
    isolated_home: Path, tmp_path: Path, talk: Path, emulator: EmulatorHandle
) -> None:
    recording = tmp_path / "sent.wav"
    recording.symlink_to("/dev/full")
    done = run(
        *("--input", str(talk), "--plain", "--no-log", "--record-audio", str(recording)),
        home=isolated_home,
        handle=emulator,
    )
    assert done.returncode == exitcodes.OUTPUT_LOST, done.stderr
    assert f"audio recording {recording} stopped" in last_line(done.stderr)


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("--log", "{file}/journal.jsonl"), {}, "--log: {file} is a file, not a folder"),
        ((), {"TONGCHUAN_JOURNAL_DIR": "{file}"}, "journal_dir: {file} is a file, not a folder"),
        (("--log", "{dir}"), {}, "--log: {dir} is a folder, not a file"),
        (("--no-log", "--record-audio", "{file}/sent.wav"), {}, "--record-audio: {file} is a file"),
        (("--no-log", "--record-audio", "/proc/sent.wav"), {}, "--record-audio: /proc/sent.wav cannot be"),
    ],
)
def test_every_output_path_is_tried_before_the_session_starts(
    isolated_home: Path,
    tmp_path: Path,
    talk: Path,
    emulator: EmulatorHandle,
    args: tuple[str, ...],
    env: dict[str, str],
    needle: str,
) -> None:
    places = {"file": str(talk), "dir": str(tmp_path)}
    done = run(
        *("--input", str(talk), "--plain", *(a.format(**places) for a in args)),
        home=isolated_home,
        handle=emulator,
        env={k: v.format(**places) for k, v in env.items()},
    )
    assert done.returncode == exitcodes.USAGE, done.stderr
    assert needle.format(**places) in one_line(done.stderr)
    assert not emulator.state.session_uuids  # refused before anything was sent


# --- item 9: each message once, saying what happened ---


def test_a_readable_config_holding_a_secret_is_warned_about_once(
    isolated_home: Path, tmp_path: Path, talk: Path, emulator: EmulatorHandle
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[credentials]\nsecret_id = "{emulator.secret_id}"\nsecret_key = "{emulator.secret_key}"\n'
    )
    config.chmod(0o644)
    env = {k: v for k, v in cli_env(isolated_home, emulator).items() if not k.startswith("TENCENTCLOUD_")}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tongchuan_tui", "--config", str(config), "--input", str(talk)),
            *("--plain", "--no-log", "--endpoint", emulator.url),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "chmod 600" in one_line(done.stderr)


def test_a_rejected_session_says_why_once(isolated_home: Path, talk: Path, emulator: EmulatorHandle) -> None:
    emulator.set_faults(FaultConfig(error_at_seq=(1,), error_code="InvalidParameterValue"))
    done = run("--input", str(talk), "--plain", "--no-log", home=isolated_home, handle=emulator)
    assert done.returncode == exitcodes.SERVICE_REJECTED
    assert "InvalidParameterValue" in one_line(done.stderr)


@pytest.mark.realtime
def test_a_session_that_recovered_by_rollover_says_recovered(
    isolated_home: Path, talk: Path, emulator: EmulatorHandle
) -> None:
    emulator.set_faults(FaultConfig(error_at_seq=(3,), error_code="FailedOperation"))
    done = run("--input", str(talk), "--plain", "--no-log", home=isolated_home, handle=emulator)
    assert done.returncode == 0, done.stderr
    assert last_line(done.stderr).startswith("tongchuan-tui: recovered: ")
    assert "FailedOperation" in last_line(done.stderr)


def test_started_at_utc_is_the_same_iso_form_in_jsonl_and_the_journal(
    isolated_home: Path, tmp_path: Path, talk: Path, emulator: EmulatorHandle
) -> None:
    journal = tmp_path / "s.jsonl"
    done = run("--input", str(talk), "--jsonl", "--log", str(journal), home=isolated_home, handle=emulator)
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout.splitlines()[0])
    header = json.loads(journal.read_text().splitlines()[0])
    assert started["type"] == "SessionStarted"
    assert started["started_at_utc"] == header["started_at_utc"]
    assert started["started_at_utc"].endswith("Z")
    assert started["started_at"] == pytest.approx(header["started_at"])


def test_a_session_that_failed_to_start_is_listed_as_failed(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle
) -> None:
    sessions = tmp_path / "sessions"
    env = {"TONGCHUAN_JOURNAL_DIR": str(sessions)}
    missing = tmp_path / "missing.wav"
    done = run("--input", str(missing), "--plain", home=isolated_home, handle=emulator, env=env)
    assert done.returncode == exitcodes.BAD_INPUT
    listed = subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", "sessions"],
        env={**os.environ, **cli_env(isolated_home, emulator), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "0 errors" not in listed
    assert "failed, exit 4" in listed
    assert "missing.wav: no such file" in listed

"""The real capture path, PyAudio → PortAudio → ALSA, on a machine without a sound card.

A test-owned ~/.asoundrc defines a capture device with ALSA's `file` plugin: its `infile` (a raw s16le
fixture) is what the "microphone" hears, over a `null` slave. ALSA reads its configuration once per process,
so every case runs in its own process (alsa_probe.py) with its own HOME.

What this device does (alsa-lib 1.2.8, PortAudio 19.6, observed):
- Timing: the null slave has no clock, so capture runs far faster than real time (seconds of audio in
  milliseconds). The source's queue is made unbounded in the probe so nothing is dropped; with the default
  bound a live source drops the oldest pieces, which is the intended live behaviour.
- End of infile: capture neither ends nor returns silence; the plugin keeps returning the last period(s)
  still in its ring buffer, repeated. So a test compares only the first len(fixture) bytes.
- Start: the fixture arrives from the first sample (offset 0) at 16 kHz mono; the test still allows a
  leading offset of up to 0.5 s in case a PortAudio version primes the buffer differently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.functional.audio_helpers import (
    noise_pcm,
    read_all,
    run_devices_command,
    run_probe,
    spawn_arecord,
    write_asoundrc,
)

from tongchuan_tui.audio.stdin import StdinSource

FIXTURE_S = 1.0
MAX_OFFSET = 16_000  # bytes = 0.5 s


def _fixture(tmp_path: Path) -> tuple[bytes, Path]:
    pcm = noise_pcm(FIXTURE_S, seed=11)
    path = tmp_path / "speech.raw"
    path.write_bytes(pcm)
    return pcm, path


def _assert_captured(captured: bytes, fixture: bytes) -> None:
    offset = captured.find(fixture[:640])
    assert offset >= 0, "the fixture's first 20 ms never came through the capture device"
    assert offset % 2 == 0, "capture is not sample-aligned"
    assert offset <= MAX_OFFSET
    assert captured[offset : offset + len(fixture)] == fixture


def test_default_mic_captures_what_the_device_plays(isolated_home: Path, tmp_path: Path) -> None:
    fixture, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile)
    out = tmp_path / "captured.raw"

    result = run_probe(isolated_home, "capture", "mic", "2.0", str(out))

    assert "error" not in result, result.get("error")
    assert result["description"] == "mic:default"
    assert result["live"] is True
    assert (result["rate"], result["channels"]) == (16_000, 1)  # no conversion needed on this device
    assert result["dropped_bytes"] == 0
    _assert_captured(out.read_bytes(), fixture)
    # ALSA's and JACK's probing noise must not reach the user's terminal.
    assert "ALSA lib" not in result["stderr"]
    assert "jack server" not in result["stderr"]


def test_device_is_listed_and_selectable_by_name_and_index(isolated_home: Path, tmp_path: Path) -> None:
    fixture, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile, name="tctest")

    devices = run_probe(isolated_home, "list")["devices"]

    by_name = {d["name"]: d for d in devices}
    assert "tctest" in by_name
    tctest = by_name["tctest"]
    assert tctest["channels"] >= 1
    assert tctest["default_rate"] > 0
    assert sum(1 for d in devices if d["is_default"]) == 1

    for spec in ("mic:TCTest", f"mic:{tctest['index']}"):  # name match is case-insensitive
        out = tmp_path / f"{spec.replace(':', '_')}.raw"
        result = run_probe(isolated_home, "capture", spec, "1.5", str(out))
        assert result.get("error") is None
        assert result["description"] == "mic:tctest"
        _assert_captured(out.read_bytes(), fixture)


def test_capture_goes_on_after_the_device_runs_dry(isolated_home: Path, tmp_path: Path) -> None:
    # A live source ends only when stopped: the file plugin running out of infile is not an end of input.
    fixture, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile)
    out = tmp_path / "long.raw"

    result = run_probe(isolated_home, "capture", "mic", str(FIXTURE_S * 3), str(out))

    assert result.get("error") is None
    assert result["bytes"] >= 3 * len(fixture)
    _assert_captured(out.read_bytes(), fixture)


def test_unknown_index_and_name_are_one_clear_line(isolated_home: Path, tmp_path: Path) -> None:
    _, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile)

    by_index = run_probe(isolated_home, "capture", "mic:99", "1", str(tmp_path / "x.raw"))["error"]
    by_name = run_probe(isolated_home, "capture", "mic:nosuchcard", "1", str(tmp_path / "y.raw"))["error"]

    assert "no capture device with index 99" in by_index
    assert "tongchuan-tui devices" in by_index
    assert "no capture device named like 'nosuchcard'" in by_name
    assert "\n" not in by_index + by_name


def _no_devices_env(tmp_path: Path) -> dict[str, str]:
    # Replace ALSA's top-level config so even a machine with sound cards has no usable PCM: only a default
    # whose slave does not exist. (A config with no PCM at all makes PortAudio 19.6 abort in BuildDeviceList.)
    config = tmp_path / "alsa-unusable.conf"
    config.write_text(
        'pcm.!default {\n  type file\n  slave.pcm "nosuchpcm"\n'
        '  file "/dev/null"\n  infile "/nonexistent.raw"\n}\n'
    )
    return {"ALSA_CONFIG_PATH": str(config)}


def test_no_devices_lists_nothing_and_says_how_to_pipe_audio(isolated_home: Path, tmp_path: Path) -> None:
    env = _no_devices_env(tmp_path)

    assert run_probe(isolated_home, "list", env=env)["devices"] == []
    error = run_probe(isolated_home, "capture", "mic", "1", str(tmp_path / "x.raw"), env=env)["error"]

    assert error.startswith("no capture device found")
    assert "arecord -f S16_LE -r 16000 -c 1 -t raw | ssh HOST tongchuan-tui --input - --plain" in error


def test_devices_command_lists_devices_or_says_there_are_none(isolated_home: Path, tmp_path: Path) -> None:
    _, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile, name="tctest")

    listed = run_devices_command(isolated_home)
    none = run_devices_command(isolated_home, env=_no_devices_env(tmp_path))

    assert listed.returncode == 0
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert any("tctest" in row and "Hz" in row for row in rows)
    assert any(row[:2] == ["*", row[1]] and "default" in row for row in rows if row)
    assert none.returncode == 0
    assert none.stdout.startswith("No audio capture device found")
    assert "--input -" in none.stdout
    assert "ALSA lib" not in listed.stderr + none.stderr


@pytest.mark.parametrize("file_type", ["wav", "raw"])
async def test_arecord_piped_into_stdin(isolated_home: Path, tmp_path: Path, file_type: str) -> None:
    # The documented SSH recipe, on the same fake device: arecord … | tongchuan-tui --input -
    # (arecord writes a WAV header unless told `-t raw`; the stdin source skips it.)
    fixture, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile)
    with spawn_arecord(file_type, 16_000) as recorder:
        assert recorder.stdout is not None
        got = await read_all(StdinSource(recorder.stdout))
        errors = recorder.stderr.read() if recorder.stderr else b""
    assert recorder.returncode == 0, errors

    assert got == fixture  # -s 16000: exactly one second, the whole fixture, no header bytes


def test_switching_devices_in_one_process(isolated_home: Path, tmp_path: Path) -> None:
    # The UI's device switch stops one MicSource and starts another: PortAudio must come back each time.
    fixture, infile = _fixture(tmp_path)
    write_asoundrc(isolated_home, infile, name="tctest")

    runs = run_probe(isolated_home, "sequence", str(tmp_path), "1.2", "mic", "mic:tctest", "mic")["runs"]

    assert [run.get("description") for run in runs] == ["mic:default", "mic:tctest", "mic:default"]
    for i in range(3):
        _assert_captured((tmp_path / f"{i}.raw").read_bytes(), fixture)

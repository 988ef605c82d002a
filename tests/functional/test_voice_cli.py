"""The translation spoken, end to end: the CLI against the emulator (which speaks with espeak-ng), the voice
track decoded and each sentence's speech looked for in it, and the same voice played through ALSA to a
file-backed output device (a test-owned ~/.asoundrc; each CLI run is its own process, as ALSA needs)."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.functional.audio_helpers import write_wav
from tests.functional.voice_helpers import (
    cli_command,
    cli_env,
    expected_speech,
    many_cues,
    occurrences,
    write_playback_asoundrc,
)

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread
from tongchuan_tui.emulator.tts import espeak_available
from tongchuan_tui.journal.reader import read_journal
from tongchuan_tui.pipeline.events import SentenceVoiced

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is installed by scripts/setup")

SESSION_MS = 40_000
SENTENCES = 16
BYTES_PER_MS = 32


@pytest.fixture
def cues() -> tuple[dict[str, object], list[tuple[int, int]]]:
    return many_cues(SENTENCES, SESSION_MS // SENTENCES)


@pytest.fixture
def emulator(cues: tuple[dict[str, object], list[tuple[int, int]]]) -> Iterator[EmulatorHandle]:
    with run_emulator_in_thread(cues=cues[0]) as handle:
        yield handle


def _check_voice(track: bytes, journal: Path, *, offset_bytes: int = 0, tolerance_ms: int = 0) -> None:
    """Each voiced sentence's speech is in `track` exactly once, in order, and not before it was said."""
    recorded = read_journal(journal)
    voiced = [r.event for r in recorded.events if isinstance(r.event, SentenceVoiced)]
    finals = {s.key: s for s in recorded.sentences}
    assert [v.text for v in voiced] == [s.target_text for s in recorded.sentences]
    assert len({v.key for v in voiced}) == SENTENCES
    previous_end = -1
    for event in voiced:
        speech = expected_speech(event.text)
        found = occurrences(track, speech)
        assert len(found) == 1, f"{event.text!r} is in the voice {len(found)} times"
        start_ms = (found[0] - offset_bytes) // BYTES_PER_MS
        assert found[0] >= previous_end, f"{event.text!r} overlaps the sentence before it or is out of order"
        assert start_ms + tolerance_ms >= finals[event.key].end_ms, (
            f"{event.text!r} voiced before it was said"
        )
        assert start_ms + tolerance_ms >= event.at_ms
        previous_end = found[0] + len(speech)


@pytest.mark.realtime
def test_voice_track_and_alsa_device_each_voice_every_sentence_once_in_order(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle, cues: tuple[object, list[tuple[int, int]]]
) -> None:
    talk = write_wav(tmp_path / "talk.wav", speech_like_pcm(SESSION_MS, cues[1], seed=4))
    played = tmp_path / "played.raw"
    write_playback_asoundrc(isolated_home, played)
    journal = tmp_path / "talk.jsonl"
    voice = tmp_path / "voice.wav"

    done = subprocess.run(
        cli_command(
            emulator,
            *("--input", str(talk), "--plain", "--log", str(journal)),
            *("--voice-out", str(voice), "--voice-device", "default"),
        ),
        env=cli_env(isolated_home, emulator),
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") >= SENTENCES  # the text is still printed
    assert "behind live" not in done.stderr  # short sentences never needed catching up
    with wave.open(str(voice)) as clip:
        assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (16_000, 1, 2)
        track = clip.readframes(clip.getnframes())
    recorded = read_journal(journal)
    assert recorded.ended is not None
    # As long as the session (it ends with the last packet; the last sentence may run a little past it).
    length_ms = len(track) // BYTES_PER_MS
    assert recorded.ended.at_ms <= length_ms <= recorded.ended.at_ms + 3000
    assert abs(length_ms - SESSION_MS) <= 3000
    _check_voice(track, journal)

    # The device heard the same sentences, on its own clock (wall time from when it opened, just before the
    # session started): order and uniqueness hold, its timing is only roughly the session's.
    device = played.read_bytes()
    assert abs(len(device) // BYTES_PER_MS - length_ms) <= 5000
    _check_voice(device, journal, tolerance_ms=1500)


def test_voice_out_dash_with_plain_is_refused_in_one_line(
    isolated_home: Path, emulator: EmulatorHandle
) -> None:
    done = subprocess.run(
        cli_command(emulator, "--input", "x.wav", "--plain", "--voice-out", "-"),
        env=cli_env(isolated_home, emulator),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == exitcodes.USAGE
    assert done.stderr.count("\n") == 1
    assert "--voice-out -" in done.stderr
    assert "--plain" in done.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--voice", "loud"], "--voice"),
        (["--voice-out", "voice.mp3"], "voice_out"),
        (["--voice-device", "nosuchdevice"], "--voice-device"),
        (["--voice", "--no-log", "--keep-voice"], "--keep-voice"),
    ],
)
def test_bad_voice_options_are_one_line_and_exit_2(
    isolated_home: Path, tmp_path: Path, emulator: EmulatorHandle, args: list[str], named: str
) -> None:
    talk = write_wav(tmp_path / "talk.wav", speech_like_pcm(1000, [(100, 800)], seed=1))
    write_playback_asoundrc(isolated_home, tmp_path / "played.raw")
    done = subprocess.run(
        cli_command(emulator, "--input", str(talk), "--plain", *args),
        env=cli_env(isolated_home, emulator),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == exitcodes.USAGE, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert named in done.stderr
    assert not emulator.state.sessions, "a refused voice option must stop the run before any audio is sent"


@pytest.mark.realtime
def test_kept_voice_rebuilds_the_same_track_and_the_recording_holds_only_the_input(
    isolated_home: Path, tmp_path: Path
) -> None:
    script, spans = many_cues(3, 2000)
    talk_pcm = speech_like_pcm(6000, spans, seed=9)
    talk = write_wav(tmp_path / "talk.wav", talk_pcm)
    journal = tmp_path / "short.jsonl"
    live, rebuilt, recording = tmp_path / "live.wav", tmp_path / "rebuilt.wav", tmp_path / "input.wav"
    with run_emulator_in_thread(cues=script) as handle:
        done = subprocess.run(
            cli_command(
                handle,
                *("--input", str(talk), "--plain", "--log", str(journal), "--record-audio", str(recording)),
                *("--voice-out", str(live), "--keep-voice"),
            ),
            env=cli_env(isolated_home, handle),
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in (tmp_path / "short.jsonl.voice").iterdir())
    assert kept == ["00000.wav", "00001.wav", "00002.wav"]

    exported = subprocess.run(
        cli_command(handle, "export", str(journal), "--voice", str(rebuilt)),
        env=cli_env(isolated_home, handle),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert "voice of 3 sentences" in exported.stderr
    with wave.open(str(live)) as a, wave.open(str(rebuilt)) as b:
        assert a.readframes(a.getnframes()) == b.readframes(b.getnframes())
    with wave.open(str(recording)) as clip:
        heard = clip.readframes(clip.getnframes())
    assert heard.startswith(talk_pcm)  # the input as sent (the last packet padded), no voice in it
    for text in (c["target"] for c in script["cues"]):  # type: ignore[union-attr]
        assert occurrences(heard, expected_speech(str(text))) == []


def test_export_voice_of_a_session_without_kept_voice_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tongchuan_tui.cli import main

    journal = tmp_path / "plain.jsonl"
    journal.write_text(
        '{"type": "SessionEnded", "t": 1.0, "reason": "stopped", "at_ms": 0, "exit_code": 0}\n'
    )

    result = CliRunner().invoke(main, ["export", str(journal), "--voice", str(tmp_path / "v.wav")])
    assert result.exit_code == exitcodes.JOURNAL_ERROR
    assert "no sentence was voiced" in result.output


@pytest.mark.realtime
def test_voice_out_dash_streams_raw_pcm_on_stdout_and_nothing_else(
    isolated_home: Path, tmp_path: Path
) -> None:
    script, spans = many_cues(2, 2000)
    talk = write_wav(tmp_path / "talk.wav", speech_like_pcm(4000, spans, seed=2))
    with run_emulator_in_thread(cues=script) as handle:
        done = subprocess.run(
            cli_command(handle, "--input", str(talk), "--no-log", "--voice-out", "-"),
            env=cli_env(isolated_home, handle),
            capture_output=True,
            timeout=90,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()
    stream = done.stdout
    assert len(stream) % 2 == 0
    assert abs(len(stream) // BYTES_PER_MS - 4000) <= 1500  # as long as the session: a track, not text
    for text in ("Good morning.", "Welcome back."):
        assert len(occurrences(stream, expected_speech(text))) == 1


def test_devices_lists_output_devices(isolated_home: Path, tmp_path: Path) -> None:
    write_playback_asoundrc(isolated_home, tmp_path / "played.raw")
    code = "from tongchuan_tui.commands.devices import devices_command; devices_command()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "HOME": str(isolated_home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outputs = done.stdout.split("Output devices (--voice-device):", 1)
    assert len(outputs) == 2, done.stdout
    assert any("tcvoice" in line.split() for line in outputs[1].splitlines())

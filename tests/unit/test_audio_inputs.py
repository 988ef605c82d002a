"""Pure logic of the audio inputs: `--input` parsing, device choice, URL redaction, WAV headers on stdin."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import pytest

from tongchuan_tui.audio.devices import resolve_device
from tongchuan_tui.audio.factory import open_source
from tongchuan_tui.audio.file import FileSource
from tongchuan_tui.audio.mic import MicSource
from tongchuan_tui.audio.source import AudioInputError
from tongchuan_tui.audio.stdin import StdinSource, strip_wav_header
from tongchuan_tui.audio.url import UrlSource, redact_url
from tongchuan_tui.services import DeviceInfo


@pytest.mark.parametrize(
    ("spec", "kind", "live", "description"),
    [
        ("mic", MicSource, True, "mic"),
        ("mic:2", MicSource, True, "mic:2"),
        ("mic:USB Audio", MicSource, True, "mic:USB Audio"),
        ("-", StdinSource, True, "stdin"),  # until started: a pipe is live, a regular file is not
        ("talk.mp3", FileSource, False, "file:talk.mp3"),
        ("file:///srv/a%20b.wav", FileSource, False, "file:a b.wav"),
        ("https://example.com/live.m3u8", UrlSource, True, "url:https://example.com/live.m3u8"),
        ("rtsp://cam.local:554/stream1", UrlSource, True, "url:rtsp://cam.local:554/stream1"),
    ],
)
def test_input_spec_picks_the_source(spec: str, kind: type, live: bool, description: str) -> None:
    source = open_source(spec)

    assert isinstance(source, kind)
    assert source.live is live
    assert source.description == description


def test_mic_selector_and_home_expansion(isolated_home: Path) -> None:
    mic = open_source("mic:  Built-in ")
    assert isinstance(mic, MicSource)
    assert mic.selector == "Built-in"
    default = open_source("mic")
    assert isinstance(default, MicSource)
    assert default.selector is None
    file = open_source("~/talk.wav")
    assert isinstance(file, FileSource)
    assert file.path == isolated_home / "talk.wav"


@pytest.mark.parametrize("spec", ["", "   ", "mic:"])
def test_malformed_specs_are_one_clear_line(spec: str) -> None:
    with pytest.raises(AudioInputError) as caught:
        open_source(spec)
    assert "\n" not in str(caught.value)
    assert "mic" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@example.com/a.mp3?token=abc#t=1", "https://example.com/a.mp3"),
        ("rtmp://live.example.com/app/STREAMKEY123", "rtmp://live.example.com/app/…"),
        ("http://127.0.0.1:8080/live", "http://127.0.0.1:8080/live"),
    ],
)
def test_url_descriptions_hold_no_secrets(url: str, shown: str) -> None:
    assert redact_url(url) == shown


DEVICES = [
    DeviceInfo(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 44_100.0),
    DeviceInfo(3, "USB Audio Device: - (hw:1,0)", 1, 48_000.0),
    DeviceInfo(5, "pulse", 32, 44_100.0),
    DeviceInfo(6, "default", 32, 44_100.0, is_default=True),
]


@pytest.mark.parametrize(
    ("selector", "index"),
    [(None, 6), ("3", 3), ("usb", 3), ("DEFAULT", 6), ("alc3246", 0), ("pulse", 5)],
)
def test_device_selection(selector: str | None, index: int) -> None:
    assert resolve_device(DEVICES, selector).index == index


def test_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(AudioInputError, match=r"matches several capture devices: 0 \(HDA.*\), 3 \(USB"):
        resolve_device(DEVICES, "hw:")


def test_no_default_device_says_how_to_choose() -> None:
    without_default = [d for d in DEVICES if not d.is_default]
    with pytest.raises(
        AudioInputError, match=r"no default capture device; choose one with --input mic:<index>"
    ):
        resolve_device(without_default, None)


def test_no_devices_at_all_points_to_piping() -> None:
    with pytest.raises(AudioInputError, match=r"no capture device found; .*ssh HOST tongchuan-tui --input -"):
        resolve_device([], "1")


def _wav_header(rate: int = 16_000, channels: int = 1, extra_chunk: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"")
    header = buffer.getvalue()
    # Insert an extra chunk (e.g. LIST) between fmt and data, as some recorders do.
    return header[:36] + extra_chunk + header[36:]


def test_wav_header_on_stdin_is_skipped() -> None:
    pcm = bytes(range(200))
    listing = b"LIST" + struct.pack("<I", 5) + b"INFO!" + b"\x00"  # odd size: padded to a word
    data = _wav_header(extra_chunk=listing) + pcm

    assert strip_wav_header(data) == pcm
    assert strip_wav_header(data[:30]) is None  # header still arriving
    assert strip_wav_header(b"RIF") is None
    assert strip_wav_header(pcm) == pcm  # raw PCM passes untouched


def test_wav_of_another_format_on_stdin_is_refused() -> None:
    with pytest.raises(AudioInputError, match=r"WAV of 44100 Hz, 2 channel\(s\), 16-bit; .*16 kHz mono"):
        strip_wav_header(_wav_header(rate=44_100, channels=2) + bytes(64))


def test_unknown_index_or_name_points_to_the_device_list() -> None:
    with pytest.raises(
        AudioInputError, match=r"^no capture device with index 9; see `tongchuan-tui devices`"
    ):
        resolve_device(DEVICES, "9")
    with pytest.raises(AudioInputError, match=r"^no capture device named like 'webcam'; see `tongchuan-tui"):
        resolve_device(DEVICES, "webcam")

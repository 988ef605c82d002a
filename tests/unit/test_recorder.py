"""Recording the sent audio: WAV and FLAC hold exactly the packets, a crash leaves a valid WAV, bad paths."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import av
import pytest

from tongchuan_tui.journal.recorder import AudioRecorder, RecordingError


def tone_packets(count: int, ms: int = 200) -> list[bytes]:
    """`count` packets of a 440 Hz tone, 16 kHz s16le mono."""
    samples = 16 * ms
    packets = []
    for p in range(count):
        packets.append(
            b"".join(
                struct.pack("<h", int(9000 * math.sin(2 * math.pi * 440 * (p * samples + i) / 16000)))
                for i in range(samples)
            )
        )
    return packets


def decode_pcm(path: Path) -> tuple[bytes, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        data = b"".join(bytes(frame.planes[0])[: frame.samples * 2] for frame in container.decode(stream))
    return data, rate


def test_wav_holds_exactly_the_sent_audio(tmp_path: Path) -> None:
    packets = tone_packets(5)
    path = tmp_path / "rec.wav"
    recorder = AudioRecorder(path)
    for packet in packets:
        recorder(packet)
    recorder.close()
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.readframes(wav.getnframes()) == b"".join(packets)


def test_wav_is_valid_even_if_never_closed(tmp_path: Path) -> None:
    packets = tone_packets(3)
    path = tmp_path / "rec.wav"
    recorder = AudioRecorder(path)
    for packet in packets:
        recorder(packet)
    # As if the process were killed now: the file on disk is already a complete WAV.
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == 3 * 3200
        assert wav.readframes(wav.getnframes()) == b"".join(packets)
    recorder.close()


def test_flac_is_lossless(tmp_path: Path) -> None:
    packets = tone_packets(4)
    path = tmp_path / "rec.flac"
    recorder = AudioRecorder(path)
    for packet in packets:
        recorder(packet)
    recorder.close()
    pcm, rate = decode_pcm(path)
    assert rate == 16000
    assert pcm == b"".join(packets)


@pytest.mark.parametrize("name", ["rec.mp3", "rec", "rec.ogg"])
def test_unsupported_extension_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(RecordingError, match=r"use a \.wav or \.flac"):
        AudioRecorder(tmp_path / name)


def test_unwritable_path_is_refused_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecordingError, match="cannot record audio") as info:
        AudioRecorder(blocker / "rec.wav")
    assert "\n" not in str(info.value)


def test_write_failure_is_reported_once_and_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[str] = []
    recorder = AudioRecorder(tmp_path / "rec.wav", on_error=errors.append)
    recorder(tone_packets(1)[0])

    def full(_: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder._out, "write", full)
    for packet in tone_packets(3):
        recorder(packet)
    recorder.close()
    assert len(errors) == 1
    assert "No space left on device" in errors[0]
    assert recorder.bytes_written == 6400

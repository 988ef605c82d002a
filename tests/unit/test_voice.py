"""The voice's logic without a session: taking each sentence's audio once, placing sentences and catching up,
the track, the settings, and the emulator's speech."""

from __future__ import annotations

import base64
import io
import itertools
import wave

import pytest

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.config import ConfigError, load_settings
from tongchuan_tui.emulator import tts as emulator_tts
from tongchuan_tui.pipeline.events import Sentence, SentenceVoiced, event_from_json, event_to_json
from tongchuan_tui.pipeline.voicing import VoicedTranscript
from tongchuan_tui.voice.decode import decode_voice
from tongchuan_tui.voice.planner import VoicePlanner
from tongchuan_tui.voice.sink import VoiceSink
from tongchuan_tui.voice.track import TrackWriter
from tongchuan_tui.voice.tts import default_voice, tts_options

RATE = 16_000


def _info(se_id: str, *, final: bool, audio: bytes | None = None, ver: int = 1) -> DisplayInfo:
    return DisplayInfo(
        se_id=se_id,
        se_ver=ver,
        source_text="源",
        target_text=f"target {se_id}",
        start_time=0,
        end_time=1000,
        is_end=final,
        audio=base64.b64encode(audio).decode() if audio else None,
    )


def test_each_final_sentence_is_voiced_once_and_after_its_final_revision() -> None:
    voiced: list[tuple[str, bytes]] = []
    transcript = VoicedTranscript(lambda sentence, audio: voiced.append((sentence.key, audio)))
    emitted: list[str] = []

    def answer(*infos: DisplayInfo) -> None:
        for sentence in transcript.apply(0, infos):
            emitted.append(f"revised {sentence.key} final={sentence.final}")
            transcript.revised(sentence)
            if voiced and f"voiced {voiced[-1][0]}" not in emitted:
                emitted.append(f"voiced {voiced[-1][0]}")

    answer(_info("1", final=False, audio=b"early", ver=1))  # audio on a growing sentence is not taken
    answer(_info("1", final=True, audio=b"one", ver=2))
    answer(_info("1", final=True, audio=b"one", ver=2), _info("2", final=True, ver=1))  # repeated: not again
    answer(_info("2", final=True, audio=b"two", ver=1))  # audio after the sentence was final: taken now

    assert voiced == [("0:1", b"one"), ("0:2", b"two")]
    assert emitted.index("revised 0:1 final=True") < emitted.index("voiced 0:1")


def test_a_sentence_a_rollover_re_sent_is_not_voiced_twice() -> None:
    voiced: list[str] = []
    transcript = VoicedTranscript(lambda sentence, audio: voiced.append(sentence.key))
    transcript.open_session(0, 0)
    transcript.open_session(1, 0)  # the next service session re-hears the same stretch from the start
    for index in (0, 1):
        for sentence in transcript.apply(index, [_info("1", final=True, audio=b"speech")]):
            transcript.revised(sentence)
    assert voiced == ["0:1"]


def test_planner_places_in_order_and_catches_up_by_speed_then_by_skipping() -> None:
    planner = VoicePlanner(catch_up_ms=1000)
    # Sentences of 2 s arriving every 500 ms: the queue falls further behind with each one.
    placements = [planner.place(f"s{i}", i * 500, 2000) for i in range(6)]

    # Up to 1 s behind: as is; beyond: 1.5× faster; beyond 3 s: skipped, so the voice stays live.
    assert [(p.start_ms, p.tempo, p.skipped) for p in placements] == [
        (0, 1.0, False),
        (2000, 1.5, False),
        (3333, 1.5, False),
        (4666, 1.0, True),
        (4666, 1.5, False),
        (5999, 1.0, True),
    ]
    kept = [p for p in placements if not p.skipped]
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(kept)), "never overlapping"
    assert max(p.behind_ms for p in kept) <= 3000
    assert (planner.sped_up, planner.skipped) == (3, 2)


def test_planner_is_live_again_once_the_speech_stops() -> None:
    planner = VoicePlanner(catch_up_ms=1000)
    for i in range(4):
        planner.place(f"s{i}", i * 100, 1500)
    late = planner.place("late", 60_000, 1500)
    assert (late.start_ms, late.tempo, late.skipped) == (60_000, 1.0, False)
    assert planner.queued_ms(61_500) == 0


class _Memory:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, pcm: bytes) -> None:
        self.data += pcm

    def close(self) -> None:
        self.closed = True


def _voiced(index: int, at_ms: int, pcm: bytes) -> SentenceVoiced:
    return SentenceVoiced(
        key=f"0:{index}",
        index=index,
        at_ms=at_ms,
        start_ms=at_ms - 1000,
        end_ms=at_ms - 200,
        text=f"sentence {index}",
        codec="pcm",
        sample_rate=RATE,
        size_bytes=len(pcm),
        audio=pcm,
    )


def test_sink_lays_the_track_on_the_timeline_and_says_when_it_catches_up() -> None:
    out = _Memory()
    warnings: list[str] = []
    sink = VoiceSink(rate=RATE, catch_up_ms=1000, track=TrackWriter(out, RATE), on_warning=warnings.append)
    sink.start()
    tone = b"\x10\x20" * (RATE * 2)  # 2 s of a constant, non-silent signal
    for i in range(4):  # every 500 ms: far faster than they can be spoken
        sink(_voiced(i, 1000 + i * 500, tone))
    from tongchuan_tui.pipeline.events import SessionEnded

    sink(SessionEnded(reason="input-ended", at_ms=20_000, exit_code=0))
    sink.close()

    assert out.closed
    assert len(out.data) == 20_000 * RATE // 1000 * 2  # silence up to the end of the session
    first = [p.start_ms for p in sink.placements]
    assert first[0] == 1000
    assert out.data[: 1000 * 32] == bytes(1000 * 32)  # nothing before the first sentence arrived
    assert any("behind live" in w for w in warnings)
    assert len(warnings) == sum(1 for p in sink.placements if p.skipped or p.tempo != 1.0)


def test_voiced_event_keeps_its_audio_out_of_json() -> None:
    event = _voiced(3, 5000, b"\x01\x02" * 1000)
    data = event_to_json(event)
    assert "audio" not in data
    assert data["size_bytes"] == 2000
    back = event_from_json(data)
    assert isinstance(back, SentenceVoiced)
    assert (back.key, back.at_ms, back.audio) == ("0:3", 5000, b"")


def test_tts_object_from_the_settings_with_a_voice_for_the_target() -> None:
    assert tts_options(load_settings(env={}).settings) is None
    settings = load_settings(env={}, flags={"voice": True, "source": "zh", "target": "en"}).settings
    tts = tts_options(settings)
    assert tts is not None
    assert tts.to_json() == {
        "Codec": "wav",
        "VoiceType": 1051,
        "Volume": 0.0,
        "Speed": 0.0,
        "SampleRate": 16000,
    }
    chosen = load_settings(
        env={}, flags={"voice_out": "v.wav", "voice_type": "7", "voice_speed": "1.25", "voice_volume": "-2.5"}
    ).settings
    options = tts_options(chosen)
    assert options is not None
    assert (options.voice_type, options.speed, options.volume) == (7, 1.25, -2.5)
    assert default_voice("ja") == default_voice("ko") == 0


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("voice_speed", "7", "from -2 to 6"),
        ("voice_speed", "1.005", "at most 2 decimals"),
        ("voice_volume", "11", "from -10 to 10"),
        ("voice_sample_rate", "44100", "16000 or 8000"),
        ("voice_codec", "ogg", "wav, mp3, pcm"),
        ("voice_type", "-3", "integer"),
        ("voice_catch_up_ms", "10", "500 to 60000"),
        ("voice_out", "voice.mp3", ".wav or .flac"),
    ],
)
def test_bad_tts_settings_are_one_line_naming_the_setting(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={f"TONGCHUAN_{name.upper()}": value})
    message = str(caught.value)
    assert "\n" not in message
    assert name in message
    assert says in message


@pytest.mark.parametrize("codec", ["wav", "pcm", "mp3"])
@pytest.mark.parametrize("rate", [16_000, 8_000])
def test_emulator_speaks_in_each_codec_and_rate(codec: str, rate: int) -> None:
    audio = emulator_tts.speech_audio("Good morning everyone.", "en", codec, rate)
    assert audio is not None
    raw = base64.b64decode(audio)
    if codec == "wav":
        with wave.open(io.BytesIO(raw)) as clip:
            assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (rate, 1, 2)
    pcm = decode_voice(raw, codec=codec, sample_rate=rate, track_rate=RATE)
    seconds = len(pcm) / (2 * RATE)
    assert 0.5 < seconds < 5


def test_without_espeak_a_tone_follows_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator_tts.shutil, "which", lambda name: None)
    emulator_tts._espeak.cache_clear()
    short = base64.b64decode(emulator_tts.speech_audio("Hi there.", "en", "pcm", RATE) or "")
    long = base64.b64decode(
        emulator_tts.speech_audio("A much longer sentence to say.", "en", "pcm", RATE) or ""
    )
    assert len(short) < len(long)
    assert short == base64.b64decode(emulator_tts.placeholder_audio("Hi there.", "pcm", RATE) or "")


def test_sentence_type_is_unchanged_for_sinks() -> None:
    # The voice adds an event; the Sentence every other sink sees stays as it was.
    assert "audio" not in {f for f in Sentence.__dataclass_fields__}


def test_the_official_sdk_reads_our_tts_object_field_by_field() -> None:
    from tencentcloud.tsi.v20210325 import models

    from tongchuan_tui.api.models import UploadRequest

    settings = load_settings(
        env={}, flags={"voice": True, "voice_speed": "1.5", "voice_volume": "2", "voice_sample_rate": "8000"}
    ).settings
    upload = UploadRequest("s", "zh", "en", 0, 0, False, b"\0" * 6400, tts=tts_options(settings))
    request = models.TongChuanSyncRequest()
    request._deserialize(upload.to_json())
    tts = request.TTS
    assert (tts.Codec, tts.VoiceType, tts.SampleRate) == ("wav", 1051, 8000)
    assert (tts.Speed, tts.Volume) == (1.5, 2.0)
    assert isinstance(tts.Speed, float)
    assert isinstance(tts.Volume, float)


def test_emulator_speaks_faster_at_a_higher_speed() -> None:
    if not emulator_tts.espeak_available():
        pytest.skip("espeak-ng is installed by scripts/setup")
    text = "The meeting starts now, thank you all for coming."
    normal = base64.b64decode(emulator_tts.speech_audio(text, "en", "pcm", RATE, 0.0) or "")
    fast = base64.b64decode(emulator_tts.speech_audio(text, "en", "pcm", RATE, 2.0) or "")
    assert len(fast) < len(normal) * 0.8

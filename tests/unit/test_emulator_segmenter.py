"""Energy segmentation: speech found in generated speech-like audio, answered with honest placeholders."""

from __future__ import annotations

import pytest

from tongchuan_tui.audio.format import ms_to_bytes
from tongchuan_tui.emulator.segmenter import Segmenter, SegmenterConfig, frame_rms, placeholder
from tongchuan_tui.emulator.signals import speech_like_pcm

SPEECH = [(300, 1500), (2200, 3000)]


def segments_of(
    pcm: bytes, packet_bytes: int, config: SegmenterConfig | None = None
) -> list[tuple[int, int, bool]]:
    seg = Segmenter(config)
    for offset in range(0, len(pcm), packet_bytes):
        seg.feed(pcm[offset : offset + packet_bytes])
    seg.finish()
    return [(s.start_ms, s.end_ms, s.final) for s in seg.segments]


def test_frame_rms_of_silence_and_of_a_full_scale_square() -> None:
    assert frame_rms(b"\x00\x00" * 320) == 0.0
    square = (b"\xff\x7f" + b"\x00\x80") * 160
    assert frame_rms(square) == pytest.approx(32767.5, rel=1e-3)


def test_finds_each_stretch_of_speech_near_its_true_boundaries() -> None:
    pcm = speech_like_pcm(3600, SPEECH, seed=1)
    found = segments_of(pcm, ms_to_bytes(200))
    assert len(found) == len(SPEECH)
    for (start, end, final), (true_start, true_end) in zip(found, SPEECH, strict=True):
        assert final
        assert abs(start - true_start) <= 60
        assert abs(end - true_end) <= 120


def test_packet_boundaries_do_not_change_the_result() -> None:
    pcm = speech_like_pcm(3600, SPEECH, seed=2)
    assert segments_of(pcm, 6400) == segments_of(pcm, 7777) == segments_of(pcm, len(pcm))


def test_silence_and_a_click_are_not_speech() -> None:
    assert segments_of(speech_like_pcm(2000, [], seed=3), 6400) == []
    assert segments_of(speech_like_pcm(2000, [(500, 540)], seed=3), 6400) == []


def test_a_pause_shorter_than_the_hangover_does_not_split_a_sentence() -> None:
    pcm = speech_like_pcm(3000, [(200, 1000), (1200, 2000)], seed=4)
    assert len(segments_of(pcm, 6400, SegmenterConfig(hangover_ms=400))) == 1
    assert len(segments_of(pcm, 6400, SegmenterConfig(hangover_ms=100))) == 2


def test_speech_still_going_is_reported_open_until_it_ends() -> None:
    seg = Segmenter()
    seg.feed(speech_like_pcm(1000, [(200, 1000)], seed=5))
    assert [(s.final) for s in seg.segments] == [False]
    drafts = seg.drafts("zh", "en", translate_time=1)
    assert drafts[0].source_text.startswith("[语音 1: ")
    assert drafts[0].target_text == ""
    seg.finish()
    final = seg.drafts("zh", "en", translate_time=1)[0]
    assert final.final
    assert final.target_text == placeholder("en", 1, (final.end_ms - final.start_ms) / 1000)


def test_placeholders_say_what_they_are_in_the_language() -> None:
    assert placeholder("en", 1, 2.4) == "[speech 1: 2.4 s]"
    assert placeholder("zh", 2, 0.84) == "[语音 2: 0.8 秒]"
    assert placeholder("yue", 3, 1.0) == "[语音 3: 1.0 秒]"

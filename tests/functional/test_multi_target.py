"""One input interpreted into several languages at once, through the real command line against the emulator:
every sentence of every target printed once, the same audio in every target's service session, the account's
rate limit never exceeded, exports per target; and one target refused while the other goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import srt
import webvtt
from tests.functional.audio_helpers import write_wav

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread
from tongchuan_tui.emulator.wire import ACTION_SYNC

SENTENCES = [
    ("各位早上好。", "Good morning, everyone.", "皆さん、おはようございます。"),
    ("会议现在开始。", "The meeting starts now.", "会議を始めます。"),
    ("首先介绍今天的议程。", "First, today's agenda.", "まず本日の議題です。"),
    ("我们有三个主题。", "We have three topics.", "テーマは三つあります。"),
    ("第一个是预算。", "The first is the budget.", "一つ目は予算です。"),
    ("第二个是招聘。", "The second is hiring.", "二つ目は採用です。"),
    ("第三个是办公室。", "The third is the office.", "三つ目はオフィスです。"),
    ("谢谢大家。", "Thank you all.", "皆さん、ありがとうございました。"),
]
SPEECH = [(1000 + 4800 * i, 4600 + 4800 * i) for i in range(len(SENTENCES))]
TOTAL_MS = 40_000
CUES = {
    "source": "zh",
    "cues": [
        {"start_ms": a, "end_ms": b, "source": zh, "target": {"en": en, "ja": ja}}
        for (a, b), (zh, en, ja) in zip(SPEECH, SENTENCES, strict=True)
    ],
}


def _env(home: Path, handle: EmulatorHandle) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    env.update(
        HOME=str(home),
        TENCENTCLOUD_SECRET_ID=handle.secret_id,
        TENCENTCLOUD_SECRET_KEY=handle.secret_key,
        PYTHONUNBUFFERED="1",
    )
    return env


def _cli(args: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.mark.realtime
def test_two_targets_of_a_40_second_file(isolated_home: Path, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "keynote.wav", speech_like_pcm(TOTAL_MS, SPEECH, seed=5))
    with run_emulator_in_thread(cues=CUES) as emulator:
        env = _env(isolated_home, emulator)
        run = _cli(
            ["--input", str(audio), "--target", "en,ja", "--plain", "--endpoint", emulator.url], env, 120
        )
        state = emulator.state
    assert run.returncode == exitcodes.OK, run.stderr
    out = run.stdout
    for zh, en, ja in SENTENCES:
        assert out.count(zh) == 1, out
        assert out.count(f"[en] {en}") == 1, out
        assert out.count(f"[ja] {ja}") == 1, out
    # The emulator's side: one service session per target, the very same audio in both, under the limit.
    by_target = {s.target: s for s in state.sessions}
    assert sorted(by_target) == ["en", "ja"]
    assert len(state.sessions) == 2
    assert by_target["en"].audio_sha256 == by_target["ja"].audio_sha256
    assert by_target["en"].audio_ms >= TOTAL_MS - 200
    assert state.peak_rate(ACTION_SYNC) <= 25
    # One journal of the run, listed with both targets.
    listed = _cli(["sessions", "--json"], env, timeout_s=60)
    assert listed.returncode == 0, listed.stderr
    (summary,) = json.loads(listed.stdout)
    assert summary["target"] == "en,ja"
    journal = Path(summary["path"])
    # Exports: the Japanese ones only, as subtitles a player reads.
    srt_run = _cli(["export", str(journal), "--format", "srt", "--target", "ja"], env, timeout_s=60)
    assert srt_run.returncode == 0, srt_run.stderr
    texts = [cue.content for cue in srt.parse(srt_run.stdout)]
    assert texts == [ja for _, _, ja in SENTENCES]
    vtt = tmp_path / "en.vtt"
    vtt_run = _cli(["export", str(journal), "--format", "vtt", "-o", str(vtt)], env, timeout_s=60)
    assert vtt_run.returncode == 0, vtt_run.stderr
    assert [c.text for c in webvtt.read(str(vtt)).captions] == [en for _, en, _ in SENTENCES]
    both = _cli(["export", str(journal), "--format", "txt", "--target", "ja", "--text", "both"], env, 60)
    assert all(zh in both.stdout and ja in both.stdout for zh, _, ja in SENTENCES)
    assert not any(en in both.stdout for _, en, _ in SENTENCES)


@pytest.mark.realtime
def test_a_refused_target_leaves_the_other_running(isolated_home: Path, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "short.wav", speech_like_pcm(10_000, SPEECH[:2], seed=2))
    with run_emulator_in_thread(cues=CUES, refused_targets=frozenset({"ja"})) as emulator:
        run = _cli(
            ["--input", str(audio), "--target", "en,ja", "--jsonl", "--endpoint", emulator.url, "--no-log"],
            _env(isolated_home, emulator),
            timeout_s=90,
        )
        state = emulator.state
    events = [json.loads(line) for line in run.stdout.splitlines()]
    ended = [e for e in events if e["type"] == "TargetEnded"]
    assert [(e["target"], e["exit_code"]) for e in ended] == [("ja", exitcodes.SERVICE_REJECTED)]
    finals = {
        (e["sentence"]["target"], e["sentence"]["target_text"])
        for e in events
        if e["type"] == "SentenceRevised" and e["sentence"]["final"]
    }
    assert finals == {("en", en) for _, en, _ in SENTENCES[:2]}
    # English went on to the end of the file; Japanese was refused at its first packet.
    assert [s.target for s in state.sessions] == ["en"]
    assert state.sessions[0].ended
    assert state.sessions[0].audio_ms >= 9_800
    assert run.returncode == exitcodes.SERVICE_REJECTED
    assert events[-1]["type"] == "SessionEnded"
    assert events[-1]["reason"] == "input-ended"

"""The fidelity issue's "done when", end to end through the real command line: against an emulator with
opaque unordered SeIds, changed-only (sync) or null (split) lists, StartTime in seconds, unknown fields and
a server clock minutes off, a 40-second file of 16 sentences prints every translation exactly once and
whole with --plain, in sync and split modes, and its SRT export puts each cue within about 1 s of when the
words were said."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import srt
from tests.functional.audio_helpers import write_wav

from tongchuan_tui import exitcodes
from tongchuan_tui.emulator.signals import speech_like_pcm
from tongchuan_tui.emulator.testing import EmulatorHandle, run_emulator_in_thread
from tongchuan_tui.emulator.variants import WireVariant

pytestmark = [pytest.mark.realtime, pytest.mark.timeout(150)]

DURATION_MS = 40_000
PAIRS = [
    ("大家好，欢迎参加今天的会议。", "Hello everyone, welcome to today's meeting."),
    ("我们先回顾一下上周的进展。", "Let us first review last week's progress."),
    ("新版本已经在测试环境里运行。", "The new version is running in the test environment."),
    ("用户反馈总体上是积极的。", "User feedback has been positive overall."),
    ("不过还有几个问题需要解决。", "There are still a few problems to solve, though."),
    ("第一个问题是网络延迟。", "The first problem is network latency."),
    ("第二个问题是音频的节奏。", "The second problem is the pacing of the audio."),
    ("我们每两百毫秒发送一个包。", "We send one packet every two hundred milliseconds."),
    ("服务器的时钟可能不准。", "The server's clock may be wrong."),
    ("句子的编号不一定是数字。", "Sentence ids are not necessarily numbers."),
    ("时间的单位也没有写明。", "The unit of time is not documented either."),
    ("所以客户端必须自己校准。", "So the client must calibrate it by itself."),
    ("每一句话都要完整地显示。", "Every sentence must be shown whole."),
    ("而且每句话只能出现一次。", "And every sentence may appear only once."),
    ("字幕的时间也必须准确。", "The subtitle times must be accurate too."),
    ("谢谢大家，我们下周再见。", "Thank you all, see you next week."),
]
# 16 sentences of 1.9 s, 0.6 s apart, from 0.5 s to 39.9 s.
CUES = [
    {"start_ms": 500 + i * 2500, "end_ms": 2400 + i * 2500, "source": source, "target": target}
    for i, (source, target) in enumerate(PAIRS)
]
TARGETS = [c["target"] for c in CUES]
VARIANTS = {
    "sync": WireVariant(
        se_id="opaque", sync_list="changed", time_unit="s", extra_fields=True, clock_offset_s=-400
    ),
    "split": WireVariant(
        se_id="opaque", empty_list="null", time_unit="s", extra_fields=True, clock_offset_s=400
    ),
}


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    speech = [(c["start_ms"], c["end_ms"]) for c in CUES]
    pcm = speech_like_pcm(DURATION_MS, speech, seed=40)
    return write_wav(tmp_path_factory.mktemp("e2e") / "talk.wav", pcm)


def tongchuan(
    args: list[str], home: Path, emu: EmulatorHandle, timeout_s: float
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TONGCHUAN_"))}
    env.update(
        HOME=str(home),
        TENCENTCLOUD_SECRET_ID=emu.secret_id,
        TENCENTCLOUD_SECRET_KEY=emu.secret_key,
        PYTHONUNBUFFERED="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "tongchuan_tui", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


@pytest.mark.parametrize("mode", list(VARIANTS))
def test_a_40_second_talk_prints_each_translation_once_whole_and_exports_timed_cues(
    mode: str, talk: Path, tmp_path: Path, isolated_home: Path
) -> None:
    journal = tmp_path / "talk.jsonl"
    with run_emulator_in_thread(
        cues={"source": "zh", "target": "en", "cues": CUES}, variant=VARIANTS[mode]
    ) as emu:
        args = ["--input", str(talk), "--plain", "--mode", mode, "--endpoint", emu.url, "--log", str(journal)]
        done = tongchuan(args, isolated_home, emu, timeout_s=120)
        state = emu.state
    assert done.returncode == exitcodes.OK, done.stderr[-2000:]
    # --plain prints "[hh:mm:ss] source" then the translation indented: each one exactly once, whole.
    printed = [line.strip() for line in done.stdout.splitlines() if line.startswith(" ")]
    assert printed == TARGETS, done.stdout
    # One service session that followed the rules, ended with IsEnd.
    (snap,) = state.sessions
    assert (snap.pacing_violations, snap.gap_violations, snap.failed) == ((), (), None)
    assert snap.ended

    exported = tongchuan(["export", "--format", "srt", str(journal)], isolated_home, emu, timeout_s=30)
    assert exported.returncode == exitcodes.OK, exported.stderr
    cues = list(srt.parse(exported.stdout))
    assert [c.content.strip().replace("\n", " ") for c in cues] == TARGETS
    for cue, truth in zip(cues, CUES, strict=True):
        said = timedelta(milliseconds=truth["start_ms"])
        assert abs(cue.start - said) <= timedelta(seconds=1.1), (cue.start, said, cue.content)

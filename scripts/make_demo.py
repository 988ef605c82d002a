"""Regenerates the bundled demo recording and its cue script from the sentences below.

The speech is synthesized with espeak-ng (Debian package) in Mandarin, one sentence at a time, joined with
pauses, resampled to 16 kHz mono and stored as Ogg/Opus; the cue script records where each sentence lies,
so the emulator answers with these very sentences and their translations.
Run: .venv/bin/python scripts/make_demo.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import av
import av.audio.resampler

from tongchuan_tui.audio.decode import decode_file

OUT_DIR = Path(__file__).resolve().parent.parent / "tui" / "tongchuan_tui" / "demo"
RATE = 16_000
PAUSE_MS = 700

SENTENCES = [
    ("大家好，欢迎来到今天的技术分享会。", "Hello everyone, and welcome to today's tech talk."),
    (
        "今天我们要聊的是实时同声传译。",
        "Today we are going to talk about real-time simultaneous interpretation.",
    ),
    (
        "同声传译要求在讲话的同时给出翻译。",
        "Simultaneous interpretation means translating while the speaker is still talking.",
    ),
    (
        "这对网络延迟和音频节奏都有很高的要求。",
        "This places high demands on network latency and audio pacing.",
    ),
    ("我们每两百毫秒发送一个音频包。", "We send one audio packet every two hundred milliseconds."),
    ("发送的速度必须和说话的速度一样。", "Audio must be sent exactly as fast as it is spoken."),
    (
        "如果网络出了问题，客户端会自动重试。",
        "If the network has a problem, the client retries automatically.",
    ),
    ("每一句话都会被记录下来，不会丢失。", "Every sentence is journaled, so nothing is lost."),
    ("会后可以导出字幕文件。", "After the event, you can export subtitle files."),
    (
        "这个界面可以在服务器上通过远程终端使用。",
        "This interface also works on a server over a remote terminal.",
    ),
    ("按空格键可以暂停，按Q键退出。", "Press space to pause, and press Q to quit."),
    ("谢谢大家，祝大家有美好的一天。", "Thank you all, and have a wonderful day."),
]


def synthesize(text: str, workdir: Path, index: int) -> bytes:
    """Mandarin speech for `text` as 16 kHz mono s16le PCM."""
    wav = workdir / f"s{index}.wav"
    subprocess.run(["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(wav), text], check=True)
    return decode_file(str(wav))


def encode_opus(pcm: bytes, path: Path) -> None:
    """Store PCM as Ogg/Opus (small enough to ship in the package)."""
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000)
        stream.bit_rate = 32_000
        stream.layout = "mono"
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        frame.pts = 0
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=48_000)
        for out in resampler.resample(frame):
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> None:
    """Build demo-zh.ogg and demo-zh.cues.json."""
    pcm = bytearray(b"\0" * (RATE * 2 * PAUSE_MS // 1000))
    cues = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (zh, en) in enumerate(SENTENCES):
            speech = synthesize(zh, Path(tmp), i)
            start_ms = len(pcm) // 32
            pcm += speech
            cues.append({"start_ms": start_ms, "end_ms": len(pcm) // 32, "source": zh, "target": en})
            pcm += b"\0" * (RATE * 2 * PAUSE_MS // 1000)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    encode_opus(bytes(pcm), OUT_DIR / "demo-zh.ogg")
    script = {
        "description": "Bundled demo: Mandarin speech synthesized by espeak-ng, with English translations.",
        "source": "zh",
        "target": "en",
        "duration_ms": len(pcm) // 32,
        "cues": cues,
    }
    (OUT_DIR / "demo-zh.cues.json").write_text(json.dumps(script, ensure_ascii=False, indent=2) + "\n")
    print(f"demo: {len(pcm) // 32} ms, {len(cues)} sentences -> {OUT_DIR}")


if __name__ == "__main__":
    main()

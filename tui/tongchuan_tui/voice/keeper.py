"""Each voiced sentence's audio kept beside the journal (`--keep-voice`): `JOURNAL.voice/NNNNN.EXT`.

NNNNN is the `SentenceVoiced.index` the journal records, EXT what the bytes are (wav, mp3, or pcm for raw
s16le at the event's sample rate). Each file is written to a temporary name and renamed, so a file that
exists is complete.
"""

from __future__ import annotations

import os
from pathlib import Path

from tongchuan_tui.pipeline.events import SentenceVoiced
from tongchuan_tui.voice.decode import looks_like_container


def voice_dir(journal_path: Path) -> Path:
    """Where the voice of the journal at `journal_path` is kept."""
    return journal_path.with_name(journal_path.name + ".voice")


def extension(audio: bytes, codec: str) -> str:
    """The file extension for `audio` that was asked for as `codec`."""
    if audio[:4] == b"RIFF":
        return "wav"
    if looks_like_container(audio):
        return "mp3" if audio[:3] == b"ID3" or audio[:1] == b"\xff" else "audio"
    return "pcm"


def keep_audio(directory: Path, event: SentenceVoiced) -> Path:
    """Write one sentence's audio; raises OSError."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{event.index:05d}.{extension(event.audio, event.codec)}"
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(event.audio)
    os.replace(partial, path)
    return path


def kept_audio(directory: Path, index: int) -> bytes | None:
    """The kept audio of the `index`-th voiced sentence, or None if it is not there."""
    for path in directory.glob(f"{index:05d}.*"):
        if not path.name.endswith(".part"):
            return path.read_bytes()
    return None

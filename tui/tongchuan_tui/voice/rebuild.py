"""`export JOURNAL --voice FILE.wav|.flac`: the voice track rebuilt from a journal and its kept audio.

The journal says which sentences were voiced and when they arrived on the session timeline
(`SentenceVoiced`); `JOURNAL.voice/` holds their audio (`--keep-voice`). They are placed as the live
track placed them (same planner, same catch-up threshold), and the track lasts as long as the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tongchuan_tui.journal.reader import Journal
from tongchuan_tui.pipeline.events import SentenceVoiced, SessionEnded
from tongchuan_tui.voice import VoiceError
from tongchuan_tui.voice.decode import decode_voice, speed_up
from tongchuan_tui.voice.keeper import kept_audio, voice_dir
from tongchuan_tui.voice.planner import VoicePlanner
from tongchuan_tui.voice.track import TrackWriter, open_track

DEFAULT_CATCH_UP_MS = 3000


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What the export wrote: sentences placed, missing (no kept file or undecodable), track length."""

    voiced: int
    missing: int
    length_ms: int


def _setting(journal: Journal, name: str, default: int) -> int:
    value = journal.header.settings.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def rebuild_voice(journal: Journal, output: Path) -> Rebuilt:
    """Write the voice track of `journal` to `output`; raises VoiceError (one line) when there is none."""
    voiced = [r.event for r in journal.events if isinstance(r.event, SentenceVoiced)]
    if not voiced:
        raise VoiceError(
            f"{journal.path}: no sentence was voiced (the session did not ask for TTS with --voice)"
        )
    directory = voice_dir(journal.path)
    if not directory.is_dir():
        raise VoiceError(
            f"{journal.path}: its voice was not kept ({directory} is missing; run with --keep-voice)"
        )
    rate = _setting(journal, "voice_sample_rate", 16000)
    planner = VoicePlanner(_setting(journal, "voice_catch_up_ms", DEFAULT_CATCH_UP_MS))
    track = TrackWriter(open_track(str(output), rate), rate)
    missing = 0
    try:
        for event in sorted(voiced, key=lambda e: e.index):
            audio = kept_audio(directory, event.index)
            try:
                pcm = decode_voice(
                    audio or b"", codec=event.codec, sample_rate=event.sample_rate, track_rate=rate
                )
            except ValueError:
                pcm = b""
            if not pcm:
                missing += 1
                continue
            placement = planner.place(event.key, event.at_ms, len(pcm) * 1000 // (2 * rate))
            if not placement.skipped:
                track.put(placement.start_ms, speed_up(pcm, rate, placement.tempo))
        ended = journal.ended.at_ms if isinstance(journal.ended, SessionEnded) else 0
        track.silence_to(max(ended, planner.end_ms))
    finally:
        track.close()
    return Rebuilt(voiced=len(voiced) - missing, missing=missing, length_ms=track.position_ms)

"""The voice outputs of one run, from the settings: `open_voice` is the one hook the run uses.

It refuses at once, with one line (VoiceError), a track path or device that cannot be used, and returns the
started sink (None when no voice output is asked for: `--voice` alone only asks the service for speech,
which then reaches the journal's record of what was voiced).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tongchuan_tui.config import Settings
from tongchuan_tui.voice import VoiceError
from tongchuan_tui.voice.keeper import voice_dir
from tongchuan_tui.voice.player import VoicePlayer
from tongchuan_tui.voice.sink import VoiceSink
from tongchuan_tui.voice.track import TrackWriter, check_track_path, open_track


def open_voice(
    settings: Settings,
    *,
    journal_path: Path | None,
    on_warning: Callable[[str], None] | None = None,
    stdout: BinaryIO | None = None,
) -> VoiceSink | None:
    """Start the voice outputs asked for (track, device, kept audio); raises VoiceError with one line."""
    keep_dir = None
    if settings.keep_voice:
        if journal_path is None:
            raise VoiceError(
                "--keep-voice keeps the voice beside the journal: drop --no-log, or give --log PATH"
            )
        keep_dir = voice_dir(journal_path)
    if settings.voice_out is None and settings.voice_device is None and keep_dir is None:
        return None
    rate = settings.voice_sample_rate
    if settings.voice_out is not None:
        check_track_path(settings.voice_out)
    player = VoicePlayer(settings.voice_device, rate) if settings.voice_device is not None else None
    track = TrackWriter(open_track(settings.voice_out, rate, stdout), rate) if settings.voice_out else None
    sink = VoiceSink(
        rate=rate,
        catch_up_ms=settings.voice_catch_up_ms,
        track=track,
        player=player,
        keep_dir=keep_dir,
        on_warning=on_warning,
    )
    try:
        sink.start()
    except VoiceError:
        if track is not None:
            track.close()
        raise
    return sink

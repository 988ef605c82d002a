"""The translation spoken: the service's synthesized speech (TTS) of each sentence as one voice track.

`tts` turns the settings into the upload's `TTS` object; `decode` turns whatever codec the service sent into
the track's PCM; `planner` places sentences one after another on a clock, speeding up or skipping to stay
live; `track` writes the track to a WAV/FLAC file or to stdout; `player` plays it on an output device;
`sink` is the session sink that feeds them from a thread of its own; `keeper` keeps each sentence's audio
beside the journal (`--keep-voice`) and `rebuild` makes the track again from a journal.
"""

from __future__ import annotations


class VoiceError(Exception):
    """A voice output cannot be started (unwritable file, unknown device); the message is one line."""

"""Taking each final sentence's synthesized speech once, for sessions that ask for TTS.

The service may repeat a sentence's `Audio` in every answer that lists it (Sync's and Display's alike), and
it may put it on the answer that makes the sentence final or on a later one. `VoicedTranscript` watches the
answers the transcript merges and hands the first audio of each final sentence to `emit_voiced` exactly
once: right after the sentence's final `SentenceRevised` when that answer finalized it (so sinks always see
the final text first), else at once. A sentence that repeats one already voiced (same translation,
overlapping on the timeline: the stretch a rollover re-sends) is not voiced again.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.pipeline.transcript import Transcript

log = logging.getLogger(__name__)

RECENT = 16
"""Voiced sentences remembered to recognise a repeat."""


class VoicedTranscript(Transcript):
    """A transcript that also hands on the first audio of each final sentence (`emit_voiced`)."""

    def __init__(self, emit_voiced: Callable[[Sentence, bytes], None]) -> None:
        super().__init__()
        self._emit_voiced = emit_voiced
        self._taken: set[str] = set()
        self._waiting: dict[str, bytes] = {}
        """Audio of sentences this answer finalized, until their final SentenceRevised has gone out."""
        self._recent: deque[Sentence] = deque(maxlen=RECENT)

    def apply(self, index: int, infos: Iterable[DisplayInfo], **options: Any) -> list[Sentence]:
        """Merge an answer (as `Transcript.apply`), noting the audio of final sentences not voiced yet."""
        listed = list(infos)
        changed = super().apply(index, listed, **options)
        revised = {s.key for s in changed if s.final}
        for info in listed:
            key = f"{index}:{info.se_id}"
            sentence = self._sentences.get(key)
            if not info.audio or key in self._taken or sentence is None or not sentence.final:
                continue
            audio = _decoded(info.audio, key)
            if audio is None:
                continue
            self._taken.add(key)
            if self._repeats(sentence):
                continue
            self._recent.append(sentence)
            if key in revised:
                self._waiting[key] = audio
            else:
                self._emit_voiced(sentence, audio)
        return changed

    def revised(self, sentence: Sentence) -> None:
        """A SentenceRevised went out: voice the sentence now if its audio was waiting for it."""
        audio = self._waiting.pop(sentence.key, None) if sentence.final else None
        if audio is not None:
            self._emit_voiced(sentence, audio)

    def _repeats(self, sentence: Sentence) -> bool:
        return any(
            old.target_text == sentence.target_text
            and old.start_ms < sentence.end_ms
            and sentence.start_ms < old.end_ms
            for old in self._recent
        )


def _decoded(text: str, key: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        log.warning("sentence %s: its Audio is not base64; not voiced", key)
        return None

"""Sentence assembly: the service's DisplayInfo stream merged into sentences placed on the session timeline.

Rules:
- A sentence is identified by (service session index, SeId). A version (SeVer) lower than or equal to the one
  held is stale and ignored; a final sentence (IsEnd) never changes again.
- Times: the service reports StartTime/EndTime in ms of the audio it received in that service session; a
  `TimelineMap` turns them into session-timeline ms (the session's offset, plus any live audio dropped
  inside it).
- Display only returns the newest 5 sentences, so a sentence that left the window is kept as it was last
  seen. A non-final sentence that can no longer be seen — older than every sentence of a full window (5
  sentences, none of them it), or its service session closed and its results collected (`close_session`) —
  is finalized with its last known text.
- `SentenceRevised` is only worth emitting on a real change: text, times or finality; a new SeVer with the
  same content is recorded silently.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Iterable

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.events import Sentence

DISPLAY_WINDOW = 5

_Predicate = Callable[[Sentence], bool]


class TimelineMap:
    """Maps a service session's audio ms (what StartTime/EndTime count) to session-timeline ms."""

    def __init__(self, offset_ms: int) -> None:
        self._service: list[int] = [0]
        self._timeline: list[int] = [offset_ms]

    @property
    def offset_ms(self) -> int:
        """Where the service session's audio starts on the timeline."""
        return self._timeline[0]

    def add(self, service_ms: int, timeline_ms: int) -> None:
        """From `service_ms` on, the service's audio is the timeline's from `timeline_ms` (after a gap)."""
        if service_ms == self._service[-1]:
            self._timeline[-1] = timeline_ms
        elif service_ms > self._service[-1]:
            if self.to_timeline(service_ms) != timeline_ms:
                self._service.append(service_ms)
                self._timeline.append(timeline_ms)
        else:
            raise ValueError("breakpoints must be added in order")

    def to_timeline(self, service_ms: int) -> int:
        """The timeline position of the service's `service_ms`."""
        i = max(0, bisect.bisect_right(self._service, service_ms) - 1)
        return self._timeline[i] + (service_ms - self._service[i])


class Transcript:
    """The sentences of one interpreter session, across all its service sessions."""

    def __init__(self) -> None:
        self._sentences: dict[str, Sentence] = {}
        self._maps: dict[int, TimelineMap] = {}

    def open_session(self, index: int, offset_ms: int) -> TimelineMap:
        """Start placing service session `index`'s sentences from `offset_ms`; returns its map to extend."""
        timeline = TimelineMap(offset_ms)
        self._maps[index] = timeline
        return timeline

    def timeline_map(self, index: int) -> TimelineMap:
        """The map of service session `index`."""
        return self._maps[index]

    def apply(self, index: int, infos: Iterable[DisplayInfo]) -> list[Sentence]:
        """Merge one answer's sentences of service session `index`; returns the sentences that changed."""
        infos = list(infos)
        timeline = self._maps.get(index) or self.open_session(index, 0)
        changed: list[Sentence] = []
        for info in infos:
            key = f"{index}:{info.se_id}"
            old = self._sentences.get(key)
            if old is not None and (old.final or info.se_ver <= old.se_ver):
                continue
            new = Sentence(
                key=key,
                service_session=index,
                se_id=info.se_id,
                se_ver=info.se_ver,
                source_text=info.source_text,
                target_text=info.target_text,
                start_ms=timeline.to_timeline(info.start_time),
                end_ms=timeline.to_timeline(info.end_time),
                final=info.is_end,
            )
            self._sentences[key] = new
            if old is None or _content(old) != _content(new):
                changed.append(new)
        ids = {info.se_id for info in infos}
        if len(ids) >= DISPLAY_WINDOW:
            # A full window: whatever is older than all of it can no longer be seen.
            oldest = min(ids)
            changed.extend(self._finalize(index, lambda s: s.se_id < oldest))
        return changed

    def close_session(self, index: int) -> list[Sentence]:
        """Service session `index` will say no more: finalize its open sentences as last seen."""
        return self._finalize(index, lambda s: True)

    def close_all(self) -> list[Sentence]:
        """The interpreter session ends: finalize every open sentence as last seen."""
        changed: list[Sentence] = []
        for index in sorted({s.service_session for s in self._sentences.values()}):
            changed.extend(self.close_session(index))
        return changed

    def open_sentences(self, index: int | None = None) -> list[Sentence]:
        """Sentences not final yet (of one service session, or all)."""
        sentences = self._sentences.values()
        return [s for s in sentences if not s.final and (index is None or s.service_session == index)]

    def sentences(self) -> list[Sentence]:
        """Every sentence, in timeline order."""
        return sorted(self._sentences.values(), key=lambda s: (s.start_ms, s.service_session, s.se_id))

    def _finalize(self, index: int, which: _Predicate) -> list[Sentence]:
        changed: list[Sentence] = []
        for key, sentence in sorted(self._sentences.items(), key=lambda item: item[1].se_id):
            if sentence.service_session == index and not sentence.final and which(sentence):
                final = _replace_final(sentence)
                self._sentences[key] = final
                changed.append(final)
        return changed


def _content(s: Sentence) -> tuple[str, str, int, int, bool]:
    return (s.source_text, s.target_text, s.start_ms, s.end_ms, s.final)


def _replace_final(s: Sentence) -> Sentence:
    return dataclasses.replace(s, final=True)

"""Sentence assembly: the service's DisplayInfo stream merged into sentences placed on the session timeline.

Rules (docs/protocol.md says which of them the API documents and which are the client's own):
- A sentence is identified by (service session index, SeId); SeId is opaque text, compared for equality
  only. A version (SeVer) lower than or equal to the one held is stale and ignored; a final sentence (IsEnd)
  never changes again. Without SeVer, the latest content wins.
- Order is the timeline (calibrated StartTime); ties go to the sentence that appeared first. Sentences new in
  the same answer appear in the answer's oldest-first order (Display is documented newest first).
- Times: StartTime/EndTime are raw values in an undocumented unit, calibrated per service session against
  the audio delivered (`timing`); a `TimelineMap` turns the service session's audio ms into session-timeline
  ms (its offset, plus any live audio dropped inside it). The raw values are kept on the sentence.
- What an answer's List holds is undocumented (the newest 5, the changed ones, all, none): a sentence that is
  absent from an answer is kept as last seen. A non-final sentence that can no longer be seen — one that
  appeared before every sentence of a full window (5 or more sentences, none of them it), or whose service
  session closed and had its results collected (`close_session`) — is finalized with its last known text.
- `SentenceRevised` is only worth emitting on a real change: text, times or finality; a new SeVer with the
  same content is recorded silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from tongchuan_tui.api.models import DisplayInfo
from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.pipeline.timing import TimelineMap, UnitCalibration, plausible

__all__ = ["DISPLAY_WINDOW", "TimelineMap", "Transcript"]

DISPLAY_WINDOW = 5

_Predicate = Callable[[Sentence], bool]


@dataclasses.dataclass(slots=True)
class _Seen:
    """What the transcript observed itself about a sentence (not part of the event)."""

    rank: tuple[int, int]
    """(answer number, position oldest-first) of its first appearance."""
    first_seen_ms: int | None
    """Service-side audio delivered when it first appeared."""
    observed: bool = False
    """Placed from observation: its reported times did not fit the audio sent."""


class Transcript:
    """The sentences of one interpreter session, across all its service sessions."""

    def __init__(self) -> None:
        self._sentences: dict[str, Sentence] = {}
        self._seen: dict[str, _Seen] = {}
        self._maps: dict[int, TimelineMap] = {}
        self._units: dict[int, UnitCalibration] = {}
        self._answers = 0
        self._pushed_at: dict[int, int] = {}

    def open_session(self, index: int, offset_ms: int) -> TimelineMap:
        """Start placing service session `index`'s sentences from `offset_ms`; returns its map to extend."""
        timeline = TimelineMap(offset_ms)
        self._maps[index] = timeline
        self._units[index] = UnitCalibration()
        return timeline

    def timeline_map(self, index: int) -> TimelineMap:
        """The map of service session `index`."""
        return self._maps[index]

    def unit_ms(self, index: int) -> int:
        """The StartTime unit (ms) service session `index` is currently taken to report in."""
        return self._units[index].unit_ms if index in self._units else 1

    def quiet_ms(self, index: int) -> int:
        """Audio ms delivered to service session `index` since an upload's answer last carried a sentence."""
        timeline = self._maps.get(index)
        delivered = timeline.delivered_ms if timeline is not None else None
        return (delivered or 0) - self._pushed_at.get(index, 0)

    def apply(self, index: int, infos: Iterable[DisplayInfo], *, polled: bool = False) -> list[Sentence]:
        """Merge one answer's sentences of service session `index`; returns the sentences that changed.

        `polled`: the answer is a Display poll (newest first, as documented), not an upload's answer.
        """
        if index not in self._maps:
            self.open_session(index, 0)
        timeline, units = self._maps[index], self._units[index]
        self._answers += 1
        listed = list(infos)
        if polled:
            listed.reverse()
        elif listed:
            self._pushed_at[index] = timeline.delivered_ms or 0
        # Oldest first by the reported start (monotonic in any unit), then the answer's own order.
        listed = [info for _, info in sorted(enumerate(listed), key=lambda p: (p[1].start_time, p[0]))]
        delivered = timeline.delivered_ms
        before = units.unit_ms
        fits = {info.se_id: units.observe(max(info.start_time, info.end_time), delivered) for info in listed}
        changed: dict[str, Sentence] = {}
        if units.unit_ms != before:
            for sentence in self.open_sentences(index):
                if self._seen[sentence.key].observed:
                    continue
                moved = self._place(sentence, timeline, units.unit_ms)
                if moved != sentence:
                    self._sentences[sentence.key] = changed[sentence.key] = moved
        window: list[str] = []
        for position, info in enumerate(listed):
            key = f"{index}:{info.se_id}"
            window.append(key)
            seen = self._seen.get(key)
            if seen is None:
                seen = self._seen[key] = _Seen((self._answers, position), delivered)
            old = self._sentences.get(key)
            if old is not None and (old.final or (info.se_ver is not None and info.se_ver <= old.se_ver)):
                continue
            if not seen.observed and not plausible(
                info.start_time, info.end_time, units.unit_ms, seen.first_seen_ms, fits[info.se_id]
            ):
                seen.observed = True
            new = self._place(
                Sentence(
                    key=key,
                    service_session=index,
                    se_id=info.se_id,
                    se_ver=info.se_ver if info.se_ver is not None else (old.se_ver if old else 0),
                    source_text=info.source_text,
                    target_text=info.target_text,
                    start_ms=0,
                    end_ms=0,
                    final=info.is_end,
                    raw_start=info.start_time,
                    raw_end=info.end_time,
                ),
                timeline,
                units.unit_ms,
            )
            self._sentences[key] = new
            if old is None or _content(old) != _content(new):
                changed[key] = new
        if len(set(window)) >= DISPLAY_WINDOW:
            # A full window: whatever appeared before all of it has left the window and can no longer be seen.
            oldest = min(self._seen[key].rank for key in window)
            present = set(window)
            for sentence in self._finalize(
                index, lambda s: s.key not in present and self._seen[s.key].rank < oldest
            ):
                changed[sentence.key] = sentence
        return sorted(changed.values(), key=lambda s: self._seen[s.key].rank)

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
        """Sentences not final yet (of one service session, or all), in order of first appearance."""
        sentences = self._sentences.values()
        found = [s for s in sentences if not s.final and (index is None or s.service_session == index)]
        return sorted(found, key=lambda s: self._seen[s.key].rank)

    def sentences(self) -> list[Sentence]:
        """Every sentence, in timeline order (ties: first appearance)."""
        return sorted(self._sentences.values(), key=lambda s: (s.start_ms, self._seen[s.key].rank))

    def _place(self, sentence: Sentence, timeline: TimelineMap, unit_ms: int) -> Sentence:
        """`sentence` with its timeline times from its raw ones (or from observation) and `unit_ms`."""
        seen = self._seen[sentence.key]
        raw_start, raw_end = sentence.raw_start or 0, sentence.raw_end or 0
        if seen.observed:
            start = timeline.to_timeline(seen.first_seen_ms or 0)
            end = max(start, timeline.to_timeline(timeline.delivered_ms or 0))
            return dataclasses.replace(sentence, start_ms=start, end_ms=end, unit_ms=0)
        start = timeline.to_timeline(raw_start * unit_ms)
        # EndTime may be missing (0): the sentence then ends where it starts, until it says otherwise.
        end = timeline.to_timeline(max(raw_start, raw_end) * unit_ms)
        return dataclasses.replace(sentence, start_ms=start, end_ms=end, unit_ms=unit_ms)

    def _finalize(self, index: int, which: _Predicate) -> list[Sentence]:
        changed: list[Sentence] = []
        for sentence in self.open_sentences(index):
            if which(sentence):
                final = _replace_final(sentence)
                self._sentences[sentence.key] = final
                changed.append(final)
        return changed


def _content(s: Sentence) -> tuple[str, str, int, int, bool]:
    return (s.source_text, s.target_text, s.start_ms, s.end_ms, s.final)


def _replace_final(s: Sentence) -> Sentence:
    return dataclasses.replace(s, final=True)

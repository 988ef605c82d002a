"""What a host keeps of its session's events, so that a viewer attaching late first sees everything so far.

Kept: every event that tells what happened (start, service sessions, marks, pauses, input changes, warnings,
failures, the end), bounded per kind; the latest revision of every sentence, in the place the sentence first
appeared (so the order of first appearance survives); only the latest stats and level. Not kept: each
accepted packet (`ChunkSent`, only counted) and superseded revisions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from tongchuan_tui.pipeline.events import (
    ChunkSent,
    Event,
    LevelMeasured,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    StatsUpdated,
    event_to_json,
)
from tongchuan_tui.remote.protocol import encode

MAX_SENTENCES = 200_000
"""Far beyond a day of speech (a sentence every few seconds); past it the oldest are forgotten."""
MAX_OTHER = 2_000
"""Of the other kept events (warnings, retries, marks...); past it the oldest are forgotten."""
LATEST_ONLY = (StatsUpdated, LevelMeasured)


class EventHistory:
    """An ordered, bounded record of the session's events, each with the number `n` it was recorded as."""

    def __init__(self, *, max_sentences: int = MAX_SENTENCES, max_other: int = MAX_OTHER) -> None:
        self._entries: dict[int, tuple[Event, bytes]] = {}
        """slot → (event, its encoded line); dicts keep insertion order, so slots stay in order."""
        self._sentence_slots: dict[str, int] = {}
        self._latest_slots: dict[type, int] = {}
        self._other_slots: deque[int] = deque()
        self._max_sentences = max_sentences
        self._max_other = max_other
        self._n = 0
        self.packets = 0
        self.ended: SessionEnded | None = None

    @property
    def last_n(self) -> int:
        """The number of the newest recorded event (0 before any)."""
        return self._n

    def record(self, event: Event) -> bytes:
        """Number `event`, keep it as the history says; returns its line for the live viewers."""
        self._n += 1
        n = self._n
        line = encode({"kind": "event", "n": n, "event": event_to_json(event)})
        if isinstance(event, ChunkSent):
            self.packets += 1
            return line
        if isinstance(event, SentenceRevised):
            key = event.sentence.key
            slot = self._sentence_slots.get(key)
            if slot is not None:
                self._entries[slot] = (event, line)  # same slot: the first-appearance order holds
                return line
            self._sentence_slots[key] = n
            self._entries[n] = (event, line)
            if len(self._sentence_slots) > self._max_sentences:
                oldest = next(iter(self._sentence_slots))
                del self._entries[self._sentence_slots.pop(oldest)]
            return line
        if isinstance(event, LATEST_ONLY):
            old = self._latest_slots.pop(type(event), None)
            if old is not None:
                del self._entries[old]
            self._latest_slots[type(event)] = n
            self._entries[n] = (event, line)
            return line
        self._entries[n] = (event, line)
        if isinstance(event, SessionEnded):
            self.ended = event
        if isinstance(event, SessionStarted | SessionEnded):
            return line  # never forgotten: a viewer needs both
        self._other_slots.append(n)
        if len(self._other_slots) > self._max_other:
            self._entries.pop(self._other_slots.popleft(), None)
        return line

    def lines(self) -> Iterator[bytes]:
        """The kept events' lines, in order."""
        for _event, line in self._entries.values():
            yield line

    def events(self) -> list[Event]:
        """The kept events, in order (for tests and diagnostics)."""
        return [event for event, _line in self._entries.values()]

    def __len__(self) -> int:
        return len(self._entries)

"""What the live outputs know of a session: every sentence as last revised, marks, the session's state, and a
bounded, numbered history of feed items for clients that reconnect.

Owned by one thread (the server's loop); not thread-safe. Feed items are numbered 1, 2, 3... in the order the
events arrived; a client that says the last id it saw gets what followed it, or — when that has left the
history ring, or the id is not one of ours — a snapshot of everything, so it always resyncs to the full
transcript.

A session interpreted into several languages has the sentences of every target here; each sentence item
says its language (`lang`), and readers ask for one (`lang`; default: the first target).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from tongchuan_tui.journal.export import build_cues, clock, timestamp, to_srt, to_vtt
from tongchuan_tui.pipeline.events import (
    Event,
    HealthChanged,
    MarkAdded,
    Paused,
    Resumed,
    Sentence,
    SentenceRevised,
    SessionEnded,
    SessionStarted,
    of_target,
)

FEED_EVENTS = (SentenceRevised, SessionStarted, Paused, Resumed, SessionEnded, MarkAdded, HealthChanged)
"""The events the feed carries (health as the `health` field of a `state` item)."""

DEFAULT_HISTORY = 2000
TRANSCRIPT_FORMATS = ("srt", "vtt", "txt", "json")


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One Server-Sent Event: its id, its `event:` name (sentence, state, mark, snapshot) and JSON data."""

    id: int
    kind: str
    data: str
    lang: str = ""
    """The target language of a sentence item ("" for items of the whole session)."""

    def encode(self) -> bytes:
        """The SSE wire form (the JSON is one line, so one `data:` line)."""
        return f"id: {self.id}\nevent: {self.kind}\ndata: {self.data}\n\n".encode()


def sentence_json(sentence: Sentence, lang: str = "") -> dict[str, Any]:
    """A sentence as the feed and /transcript.json show it (`lang`: its target language, when known)."""
    return {
        "key": sentence.key,
        "lang": sentence.target or lang,
        "rev": sentence.se_ver,
        "start_ms": sentence.start_ms,
        "end_ms": sentence.end_ms,
        "source": sentence.source_text,
        "target": sentence.target_text,
        "final": sentence.final,
        "interrupted": bool(getattr(sentence, "interrupted", False)),
    }


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class LiveTranscript:
    """The session as the live outputs see it (see the module docstring)."""

    def __init__(self, history: int = DEFAULT_HISTORY) -> None:
        self._sentences: dict[str, Sentence] = {}
        self._order: dict[str, int] = {}
        self.marks: list[MarkAdded] = []
        self.status: dict[str, Any] = {"state": "starting"}
        """The session's state: `state` (starting, started, paused, ended) plus details (languages...), and
        `health` (pipeline/health.py: state, reason, since_utc) once the session reported it."""
        self._ring: deque[FeedItem] = deque(maxlen=max(1, history))
        self.last_id = 0
        self.targets: tuple[str, ...] = ()
        """The session's target languages, the first one first (known once it started)."""

    @property
    def first(self) -> str:
        """The first target language ("" until the session started)."""
        return self.targets[0] if self.targets else ""

    def lang_of(self, sentence: Sentence) -> str:
        """The target language `sentence` belongs to."""
        return sentence.target or self.first

    # -- taking events -------------------------------------------------------------------------------

    def apply(self, event: Event) -> FeedItem | None:
        """Take one event; the feed item it makes, if it is one the feed carries."""
        if isinstance(event, SentenceRevised):
            sentence = event.sentence
            self._order.setdefault(sentence.key, len(self._order))
            self._sentences[sentence.key] = sentence
            return self._item("sentence", sentence_json(sentence, self.first), self.lang_of(sentence))
        if isinstance(event, MarkAdded):
            self.marks.append(event)
            return self._item("mark", {"at_ms": event.at_ms, "label": event.label})
        if isinstance(event, SessionStarted):
            self.targets = event.all_targets
            self.status = {
                "state": "started",
                "source": event.source,
                "target": event.target,
                "targets": list(self.targets),
                "at_ms": 0,
            }
        elif isinstance(event, Paused):
            self.status = {**self.status, "state": "paused", "at_ms": event.at_ms}
        elif isinstance(event, Resumed):
            self.status = {**self.status, "state": "started", "at_ms": event.at_ms}
        elif isinstance(event, SessionEnded):
            self.status = {**self.status, "state": "ended", "at_ms": event.at_ms, "reason": event.reason}
        elif isinstance(event, HealthChanged):
            health = {"state": event.state, "reason": event.reason, "since_utc": event.since_utc}
            self.status = {**self.status, "health": health}
        else:
            return None
        return self._item("state", self.status)

    def _item(self, kind: str, data: object, lang: str = "") -> FeedItem:
        self.last_id += 1
        item = FeedItem(self.last_id, kind, _dumps(data), lang)
        self._ring.append(item)
        return item

    # -- reading -------------------------------------------------------------------------------------

    def since(self, last_id: int) -> list[FeedItem] | None:
        """The items after `last_id`; None when they are not all in the ring (the client needs a snapshot)."""
        if last_id == self.last_id:
            return []
        if last_id > self.last_id or last_id < 0:
            return None  # not one of ours (the session restarted): resync
        oldest = self._ring[0].id if self._ring else self.last_id + 1
        if last_id + 1 < oldest:
            return None
        return [item for item in self._ring if item.id > last_id]

    def snapshot(self, lang: str = "") -> FeedItem:
        """Everything known now of target `lang` (default: the first), as one item carrying the latest id
        (it is not kept in the ring)."""
        data = {
            "status": self.status,
            "sentences": [sentence_json(s, self.first) for s in self.sentences(lang=lang)],
            "marks": [{"at_ms": m.at_ms, "label": m.label} for m in self.marks],
        }
        return FeedItem(self.last_id, "snapshot", _dumps(data))

    def sentences(self, *, final_only: bool = False, lang: str = "") -> list[Sentence]:
        """The sentences of target `lang` (default: the first), in timeline order (ties: first appearance)."""
        wanted = lang or self.first
        chosen = [
            s
            for s in self._sentences.values()
            if (s.final or not final_only) and (not wanted or of_target(s.target, wanted, self.first))
        ]
        chosen.sort(key=lambda s: (s.start_ms, self._order[s.key]))
        return chosen

    def render(self, fmt: str, text: str = "target", lang: str = "") -> str:
        """The transcript so far of target `lang` (default: the first; unfinished sentences as last known) as
        srt, vtt, txt or json."""
        sentences = self.sentences(lang=lang)
        if fmt == "srt":
            return to_srt(build_cues(sentences, text))
        if fmt == "vtt":
            return to_vtt(build_cues(sentences, text))
        if fmt == "txt":
            return to_live_text(sentences)
        if fmt == "json":
            document = {
                "status": self.status,
                "sentences": [
                    {
                        **sentence_json(s, self.first),
                        "start": timestamp(s.start_ms),
                        "end": timestamp(s.end_ms),
                    }
                    for s in sentences
                ],
                "marks": [{"at_ms": m.at_ms, "label": m.label} for m in self.marks],
            }
            return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        raise ValueError(f"unknown transcript format {fmt!r}; use one of {', '.join(TRANSCRIPT_FORMATS)}")


def to_live_text(sentences: list[Sentence]) -> str:
    """`[HH:MM:SS] source` then the translation indented, per sentence (unfinished ones flagged)."""
    out: list[str] = []
    for s in sentences:
        flag = "" if s.final else " …"
        if s.source_text:
            out.append(f"[{clock(s.start_ms)}] {s.source_text}{'' if s.target_text else flag}")
        if s.target_text:
            prefix = " " * 11 if s.source_text else f"[{clock(s.start_ms)}] "
            out.append(f"{prefix}{s.target_text}{flag}")
    return "\n".join(out) + ("\n" if out else "")

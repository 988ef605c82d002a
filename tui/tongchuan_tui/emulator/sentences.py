"""Sentences as the emulator keeps them: drafts rendered from the audio so far, versioned as they change.

How a sentence looks on the wire (its SeId's shape, the time unit, extra fields) is decided later, by the
wire variant in force (variants.py); here ids are plain indexes and times are milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Display (and, by default, Sync) returns at most this many sentences, newest first.
MAX_LISTED = 5


@dataclass(frozen=True, slots=True)
class Draft:
    """One sentence as it stands now; times in ms relative to the session's first audio."""

    start_ms: int
    end_ms: int
    source_text: str
    target_text: str
    final: bool


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a session: `se_id` is its index in the session (the wire id is derived from it),
    `start_time`/`end_time` are ms of the session's audio, `se_ver` rises with each change."""

    se_id: int
    se_ver: int
    source_text: str
    target_text: str
    start_time: int
    end_time: int
    is_end: bool
    audio: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The plain form (index id, ms times), for the state route."""
        out: dict[str, Any] = {
            "SeId": self.se_id,
            "SeVer": self.se_ver,
            "SourceText": self.source_text,
            "TargetText": self.target_text,
            "StartTime": self.start_time,
            "EndTime": self.end_time,
            "IsEnd": self.is_end,
        }
        if self.audio is not None:
            out["Audio"] = self.audio
        return out


class SentenceBook:
    """The sentences of one session by index, with SeVer rising each time a sentence's content changes.

    Every change also stamps the sentence with a revision number, so "only what changed since the last
    answer" can be listed."""

    def __init__(self) -> None:
        self._sentences: list[Sentence] = []
        self._changed_at: list[int] = []
        self.revision = 0

    def update(self, drafts: list[Draft], audio: Callable[[Draft], str | None] | None = None) -> None:
        """Take the current drafts (index = position): a changed one gets a new SeVer; finals are frozen."""
        for index, draft in enumerate(drafts):
            if index < len(self._sentences):
                old = self._sentences[index]
                if old.is_end:
                    continue
                same = (old.source_text, old.target_text, old.end_time, old.is_end) == (
                    draft.source_text,
                    draft.target_text,
                    draft.end_ms,
                    draft.final,
                )
                if same:
                    continue
                version = old.se_ver + 1
            else:
                version = 0
            info = Sentence(
                se_id=index,
                se_ver=version,
                source_text=draft.source_text,
                target_text=draft.target_text,
                start_time=draft.start_ms,
                end_time=draft.end_ms,
                is_end=draft.final,
                # Synthesized speech comes with the final translation only.
                audio=audio(draft) if audio is not None and draft.final else None,
            )
            self.revision += 1
            if index < len(self._sentences):
                self._sentences[index] = info
                self._changed_at[index] = self.revision
            else:
                self._sentences.append(info)
                self._changed_at.append(self.revision)

    @property
    def all(self) -> tuple[Sentence, ...]:
        """Every sentence of the session, oldest first."""
        return tuple(self._sentences)

    def newest(self, limit: int = MAX_LISTED) -> list[Sentence]:
        """The `limit` newest sentences, newest first, as Display lists them."""
        return list(reversed(self._sentences[-limit:])) if limit > 0 else []

    def changed_since(self, revision: int) -> list[Sentence]:
        """The sentences that changed after `revision`, oldest first."""
        return [s for s, at in zip(self._sentences, self._changed_at, strict=True) if at > revision]

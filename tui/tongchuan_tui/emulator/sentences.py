"""Sentences as the emulator reports them: drafts rendered from the audio so far, versioned as they change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tongchuan_tui.api.models import DisplayInfo

#: Display (and, in the emulator, Sync) returns at most this many sentences, newest first.
MAX_LISTED = 5


@dataclass(frozen=True, slots=True)
class Draft:
    """One sentence as it stands now; times in ms relative to the session's first audio."""

    start_ms: int
    end_ms: int
    source_text: str
    target_text: str
    final: bool


class SentenceBook:
    """The sentences of one session by SeId, with SeVer rising each time a sentence's content changes."""

    def __init__(self) -> None:
        self._sentences: list[DisplayInfo] = []

    def update(self, drafts: list[Draft], audio: Callable[[Draft], str | None] | None = None) -> None:
        """Take the current drafts (SeId = index): a changed one gets a new SeVer; final ones are frozen."""
        for se_id, draft in enumerate(drafts):
            if se_id < len(self._sentences):
                old = self._sentences[se_id]
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
                version = (old.se_ver or 0) + 1
            else:
                version = 0
            info = DisplayInfo(
                se_id=str(se_id),
                se_ver=version,
                source_text=draft.source_text,
                target_text=draft.target_text,
                start_time=draft.start_ms,
                end_time=draft.end_ms,
                is_end=draft.final,
                # Synthesized speech comes with the final translation only.
                audio=audio(draft) if audio is not None and draft.final else None,
            )
            if se_id < len(self._sentences):
                self._sentences[se_id] = info
            else:
                self._sentences.append(info)

    @property
    def all(self) -> tuple[DisplayInfo, ...]:
        """Every sentence of the session, oldest first."""
        return tuple(self._sentences)

    def newest(self, limit: int = MAX_LISTED) -> list[DisplayInfo]:
        """The `limit` newest sentences, newest first, as Display lists them."""
        return list(reversed(self._sentences[-limit:])) if limit > 0 else []

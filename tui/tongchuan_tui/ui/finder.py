"""Finding things in the transcript: marks (`[` `]`), search (`/`, `n`, `N`), and the sentence to copy (`c`).

Textual-free but for the panes it scrolls: the app's actions are one line each, delegating here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tongchuan_tui.pipeline.events import Sentence
from tongchuan_tui.ui.model import UiModel
from tongchuan_tui.ui.widgets.panes import TranscriptPanes


def find_hits(sentences: list[Sentence], query: str) -> list[str]:
    """Keys of the sentences whose source or translation holds `query` (case-insensitive), oldest first."""
    wanted = query.casefold().strip()
    if not wanted:
        return []
    return [
        s.key for s in sentences if wanted in s.source_text.casefold() or wanted in s.target_text.casefold()
    ]


def clip_text(sentence: Sentence) -> str:
    """What copying a sentence puts on the clipboard: both texts, one a line."""
    return "\n".join(text for text in (sentence.source_text, sentence.target_text) if text)


@dataclass
class Finder:
    """The search and selection state of one app."""

    model: UiModel
    panes: TranscriptPanes
    query: str = ""
    hits: list[str] = field(default_factory=list)
    index: int = -1
    """The hit shown now (-1: none yet)."""

    def search(self, query: str) -> str:
        """Search from the top of the view downwards; returns what to tell the user."""
        self.query = query
        self.hits = find_hits(self.model.transcript.sentences(), query)
        self.index = -1
        if not self.hits:
            return f"No sentence holds “{query}”."
        return self.step(forward=True)

    def step(self, *, forward: bool) -> str:
        """Go to the next (or previous) hit, wrapping around; returns what to tell the user."""
        if not self.hits:
            return "No search yet: / searches the transcript." if not self.query else f"No “{self.query}”."
        self.index = (self.index + (1 if forward else -1)) % len(self.hits)
        self.panes.scroll_to_key(self.hits[self.index])
        return f"“{self.query}”: {self.index + 1} of {len(self.hits)} (n next, N previous)"

    def selected(self) -> Sentence | None:
        """The sentence to copy: the search hit shown, else the newest final one."""
        sentences = self.model.transcript.sentences()
        if 0 <= self.index < len(self.hits):
            key = self.hits[self.index]
            for sentence in sentences:
                if sentence.key == key:
                    return sentence
        for sentence in reversed(sentences):
            if sentence.final:
                return sentence
        return None

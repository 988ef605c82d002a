"""The app's actions for finding things in the transcript: marks (`[` `]`), search (`/` `n` `N`), copy (`c`).

A base of `InterpreterApp` (like `SessionControl`), so that app.py keeps to drawing and layout; the logic
is in `finder.Finder`.
"""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input

from tongchuan_tui.ui.finder import Finder, clip_text
from tongchuan_tui.ui.text import format_timestamp
from tongchuan_tui.ui.widgets.panes import TranscriptPanes


class FindActions(App[int]):
    """Marks, search and copy, as key actions."""

    # Set by the app once mounted.
    finder: Finder
    _marked: frozenset[str]

    def action_next_mark(self) -> None:
        """Scroll to the next marked sentence."""
        if not self.query_one(TranscriptPanes).jump_to_mark(self._marked, forward=True):
            self.notify("No mark below." if self._marked else "No marks yet: m marks this moment.")

    def action_previous_mark(self) -> None:
        """Scroll to the previous marked sentence."""
        if not self.query_one(TranscriptPanes).jump_to_mark(self._marked, forward=False):
            self.notify("No mark above." if self._marked else "No marks yet: m marks this moment.")

    def action_search(self) -> None:
        """Open the search line."""
        search = self.query_one("#search", Input)
        search.display = True
        search.value = ""
        search.focus()

    def action_close_search(self) -> None:
        """Close the search line without searching."""
        search = self.query_one("#search", Input)
        if search.display:
            search.display = False
            self.query_one(TranscriptPanes).source_pane.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.action_close_search()
            self.notify(self.finder.search(event.value))

    def action_search_step(self, forward: bool) -> None:
        """The next (n) or previous (N) search hit."""
        self.notify(self.finder.step(forward=forward))

    def action_copy_sentence(self) -> None:
        """Copy the selected sentence (search hit, else the newest final) with OSC 52: works over SSH."""
        sentence = self.finder.selected()
        if sentence is None:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(clip_text(sentence))
        self.notify(f"Copied the sentence at {format_timestamp(sentence.start_ms)} (both texts).")

"""The help screen: every key and what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("space", "pause / resume"),
    ("m", "mark this moment"),
    ("l", "cycle the layout"),
    ("p", "translations once final"),
    ("s", "stats: show / hide"),
    ("e", "export the transcript"),
    ("d", "switch device (mic)"),
    ("t", "next target language large"),
    ("v", "voice: mute / unmute"),
    ("↑↓ PgUp Home", "scroll (stops following)"),
    ("End", "back to live"),
    ("[ ]", "previous / next mark ◆"),
    ("ctrl+p", "command palette"),
    ("/ n N", "search, next, previous"),
    ("c", "copy a sentence (OSC 52)"),
    ("q", "quit (q again forces)"),
)
"""Short enough for two pairs a line: the help fits 80×24."""

READING: tuple[tuple[str, str], ...] = (
    ("● live", "health: ▲ degraded ✖ reconnecting ◌ stalled ‖ paused, and why"),
    ("lag", "from words spoken to text on screen: first text (and final)"),
    ("v3 ›", "not final: v3 = the service's 3rd version; › = draft translation"),
    ("style", "drafts dim italic, finals plain; translations cyan, never red"),
    ("stats", "rt now: median round trip of the last 10 s; behind: upload lag"),
)


class HelpScreen(ModalScreen[None]):
    """A list of the keys; any of Escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 1))
        for _ in range(2):
            keys.add_column(style="bold", no_wrap=True)
            keys.add_column(no_wrap=True)
        for left, right in zip(KEYS[::2], KEYS[1::2], strict=True):
            keys.add_row(*left, *right)
        reading = Table.grid(padding=(0, 1))
        reading.add_column(style="bold", no_wrap=True)
        reading.add_column()
        for what, meaning in READING:
            reading.add_row(what, meaning)
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(keys)
            yield Static("Reading the screen", classes="dialog-title help-section")
            yield Static(reading)
            yield Static("Escape closes this help.", classes="dialog-hint")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

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
    ("space", "pause / resume (a pause ends the service session; resume starts a new one)"),
    ("m", "mark this moment in the journal"),
    ("d", "switch the input device (microphone inputs)"),
    ("e", "export the transcript (srt, vtt, txt, md, json)"),
    ("l", "cycle layout: side by side / stacked / interleaved / translation only"),
    ("p", "show translations only once final"),
    ("s", "show / hide the stats pane"),
    ("t", "several target languages: show the next one large (the others below)"),
    ("↑ ↓ PgUp PgDn", "scroll the transcript (stops following live); Home: the oldest"),
    ("End", "back to live"),
    ("Tab", "move focus between panes"),
    ("ctrl+p", "command palette"),
    ("?", "this help"),
    ("q", "quit: final IsEnd, last results, journal flushed (q again forces)"),
)


class HelpScreen(ModalScreen[None]):
    """A list of the keys; any of Escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(table)
            yield Static("Escape closes this help.", classes="dialog-hint")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

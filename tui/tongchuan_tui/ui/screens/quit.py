"""The question `q` asks in a viewer of a detached session: leave it running (detach), or stop it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

DETACH = "detach"
STOP = "stop"


class QuitViewerDialog(ModalScreen[str | None]):
    """d (or q, Enter) detaches, s stops the session for everyone, Escape goes back to the transcript."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d,q,enter", "choose('detach')", "Detach"),
        Binding("s", "choose('stop')", "Stop the session"),
        Binding("escape", "choose_none", "Back"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.session_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Leave session {self.session_name}?", classes="dialog-title", markup=False)
            yield Static(
                f"d  detach: the session goes on (tongchuan-tui attach {self.session_name})\n"
                "s  stop the session for everyone: final packet, last results, journal closed",
                classes="dialog-message",
                markup=False,
            )
            yield Static("d / q / Enter detach · s stop · Escape back", classes="dialog-hint")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_choose_none(self) -> None:
        self.dismiss(None)

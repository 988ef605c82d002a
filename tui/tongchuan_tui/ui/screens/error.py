"""The dialog for a session that cannot go on: what happened and what to do; the transcript stays behind."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tongchuan_tui.ui.advice import Advice


class ErrorDialog(ModalScreen[None]):
    """A modal with a title, the error, the advice; Escape/Enter closes it, q quits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close"),
        Binding("q", "app.quit_gracefully", "Quit"),
    ]

    def __init__(self, advice: Advice) -> None:
        super().__init__()
        self.advice = advice

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error-dialog"):
            yield Static(self.advice.title, classes="dialog-title", markup=False)
            yield Static(self.advice.message, classes="dialog-message", markup=False)
            yield Static(self.advice.action, classes="dialog-action", markup=False)
            yield Static("Enter closes (the transcript stays) · q quits", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)

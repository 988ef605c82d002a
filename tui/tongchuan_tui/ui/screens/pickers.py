"""Choosing from a short list in a modal: the input device picker and the export format picker."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tongchuan_tui.audio.devices import DeviceInfo

EXPORT_FORMATS: tuple[tuple[str, str], ...] = (
    ("srt", "SubRip subtitles"),
    ("vtt", "WebVTT subtitles"),
    ("txt", "plain text, one sentence per line"),
    ("md", "Markdown, source and translation"),
    ("json", "JSON, every sentence with its timing"),
)


class ChoiceScreen(ModalScreen[str | None]):
    """A titled list; Enter returns the chosen option's id, Escape returns None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[Option], hint: str) -> None:
        super().__init__()
        self._title = title
        self._options = options
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title")
            yield OptionList(*self._options)
            yield Static(self._hint, classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def device_picker(devices: list[DeviceInfo], current: str | None) -> ChoiceScreen:
    """Pick a capture device; returns its input spec `mic:<index>`."""
    options = []
    for device in devices:
        marks = []
        if device.is_default:
            marks.append("default")
        if current is not None and device.name in current:
            marks.append("current")
        suffix = f"  ({', '.join(marks)})" if marks else ""
        label = f"{device.index}: {device.name} — {device.channels} ch, {device.default_rate:.0f} Hz{suffix}"
        options.append(Option(label, id=f"mic:{device.index}"))
    return ChoiceScreen("Switch input device", options, "Enter switches live · Escape cancels")


def export_picker() -> ChoiceScreen:
    """Pick an export format; returns its name."""
    options = [Option(f"{name:<5} {what}", id=name) for name, what in EXPORT_FORMATS]
    return ChoiceScreen("Export the transcript", options, "Enter exports · Escape cancels")

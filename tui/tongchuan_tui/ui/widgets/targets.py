"""The other targets' translations of a multi-target session, below the main panes (which show one target
large; `t` cycles which): side by side in columns when the terminal is wide enough, else one at a time as
tabs (the first of the others shown; `t` brings the next forward)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tongchuan_tui.ui.model import UiModel

COLUMN_MIN_WIDTH = 40
"""Narrower columns than this would wrap every line: below it the targets are shown as tabs."""
LINES = 3
"""Sentences shown per target (the newest)."""


def _lines(model: UiModel, target: str) -> Text:
    text = Text()
    ended = model.target_ended.get(target)
    if ended is not None:
        text.append(f"stopped: {ended.message}\n", style="red")
    for sentence in model.transcripts[target].newest(LINES):
        style = "" if sentence.final else "dim"
        text.append((sentence.target_text or "…") + "\n", style=style)
    text.rstrip()
    return text


def targets_view(model: UiModel, width: int) -> Table | Text:
    """What the strip shows at `width` columns: a column per other target, or tabs and one target."""
    others = model.others
    if not others:
        return Text()
    if width >= COLUMN_MIN_WIDTH * len(others):
        table = Table.grid(expand=True, padding=(0, 2))
        for target in others:
            table.add_column(header=target, ratio=1)
        table.show_header = True
        table.add_row(*(_lines(model, target) for target in others))
        return table
    tabs = Text()
    for n, target in enumerate(others):
        tabs.append(f" {target} ", style="reverse bold" if n == 0 else "dim")
    tabs.append("  (t: next language)\n", style="dim")
    tabs.append_text(_lines(model, others[0]))
    return tabs


class TargetsStrip(Static):
    """The strip of the other targets (hidden in a single-target session)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._drawn: tuple[int, int, str] = (-1, -1, "")

    def show(self, model: UiModel) -> None:
        """Redraw when another target changed, the large one changed, or the width did."""
        self.display = len(model.targets) > 1
        key = (model.others_generation, self.size.width, model.large)
        if not self.display or key == self._drawn:
            return
        self._drawn = key
        self.update(targets_view(model, self.size.width))

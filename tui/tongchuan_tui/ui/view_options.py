"""How the app lays out the transcript and stats for the terminal's size, and the keys that change the view:
layout (`l`), the large target (`t`), final translations only (`p`), stats (`s`), voice (`v`), live (End).

A base of `InterpreterApp` (like `FindActions` and `SessionControl`), so that app.py keeps to building,
redrawing and the command palette.
"""

from __future__ import annotations

from textual.app import App
from textual.geometry import Size

from tongchuan_tui.services import Services
from tongchuan_tui.ui.model import UiModel
from tongchuan_tui.ui.widgets.panes import LAYOUTS, TranscriptPanes
from tongchuan_tui.ui.widgets.stats import StatsPane

NARROW_COLUMNS = 100
"""Below this width the automatic layout stacks the panes."""
STATS_COLUMNS = 120
"""From this width the stats are a pane beside the transcript; below it, one summary line under it."""
MIN_COLUMNS = 40
MIN_ROWS = 12
"""Below this size the transcript cannot be read: the screen says so (the header's health stays)."""


class ViewOptions(App[int]):
    """The layout, fitted to the terminal, and the keys that change what is shown and how."""

    # Set by the app before it mounts.
    services: Services
    model: UiModel
    layout_choice: str
    final_only: bool
    stats_visible: bool
    _drawn_generation: int
    _sized: Size
    _marks_drawn: tuple[int, int]
    _marked: frozenset[str]

    def _show_status(self) -> None:
        """Redraw the status line now (the app overrides this)."""

    @property
    def panes(self) -> TranscriptPanes:
        return self.query_one(TranscriptPanes)

    # -- layout ------------------------------------------------------------------------------------------

    def resolved_layout(self) -> str:
        """The layout in use: the chosen one, or for `auto` side by side unless the terminal is narrow."""
        if self.layout_choice in LAYOUTS:
            return self.layout_choice
        return "side" if self.size.width >= NARROW_COLUMNS else "stacked"

    def _apply_layout(self) -> None:
        self.panes.set_layout(self.resolved_layout())

    def on_resize(self) -> None:
        self._apply_size()
        self._apply_layout()

    def _wide(self) -> bool:
        return self.size.width >= STATS_COLUMNS

    def _apply_size(self) -> None:
        """Stats as a pane or a summary line by width; the too-small notice below the size that works."""
        self._sized = self.size
        self.query_one(StatsPane).display = self.stats_visible and self._wide()
        self.query_one("#stats-summary").display = self.stats_visible and not self._wide()
        small = self.size.width < MIN_COLUMNS or self.size.height < MIN_ROWS
        self.set_class(small, "-too-small")
        self._drawn_generation = -1  # whichever now shows the stats draws them next frame

    def _relayout(self) -> None:
        self._apply_layout()
        self.panes.show(self.model.transcript, final_only=self.final_only)
        model = self.model
        if model.mark_list and (len(model.mark_list), model.transcript.generation) != self._marks_drawn:
            self._marks_drawn = (len(model.mark_list), model.transcript.generation)
            self._marked = model.marked_keys()
            self.panes.set_marked(self._marked)

    # -- view actions ------------------------------------------------------------------------------------

    def action_cycle_layout(self) -> None:
        """Side by side → stacked → interleaved → translation only → side by side."""
        current = self.resolved_layout()
        self.layout_choice = LAYOUTS[(LAYOUTS.index(current) + 1) % len(LAYOUTS)]
        self._apply_layout()
        self._relayout()
        self._show_status()

    def action_cycle_target(self) -> None:
        """Of a multi-target session, show the next target language large (the others below)."""
        if len(self.model.targets) < 2:
            self.notify("This session has one target language.")
            return
        large = self.model.cycle_target()
        self.panes.set_target(large)
        self._relayout()
        self.notify(f"Showing {large} large.")

    def action_toggle_final_only(self) -> None:
        """Show translations only once final, or live."""
        self.final_only = not self.final_only
        self._relayout()
        self._show_status()
        self.notify("Translations appear once final." if self.final_only else "Translations appear live.")

    def action_toggle_stats(self) -> None:
        """Show or hide the stats pane."""
        self.stats_visible = not self.stats_visible
        self._apply_size()

    def _voice_line(self) -> str:
        return self.services.voice_status() if self.services.voice_status is not None else ""

    def action_toggle_voice(self) -> None:
        """Mute or unmute the voice on its output device."""
        if self.services.toggle_voice is None:
            self.notify("No voice device: start with --voice-device to hear the translation.")
            return
        self.notify("Voice muted." if self.services.toggle_voice() else "Voice on.")
        self._drawn_generation = -1  # the stats show the voice's state: redraw them next frame

    def action_live(self) -> None:
        """Back to the live tail."""
        self.panes.go_live()

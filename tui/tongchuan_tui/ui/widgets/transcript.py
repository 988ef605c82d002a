"""A transcript pane: renders only the visible lines of a `TranscriptRows` (Textual's Line API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tongchuan_tui.ui.rows import Row, TranscriptRows
from tongchuan_tui.ui.text import format_timestamp

ROLE_SOURCE = "source"
ROLE_TARGET = "target"
ROLE_INTERLEAVED = "interleaved"
ROLE_LARGE = "large"


class TranscriptPane(ScrollView, can_focus=True):
    """One column of the transcript (source, translation, both interleaved, or large translation)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript--time",
        "transcript--draft",
        "transcript--final",
        "transcript--revision",
        "transcript--target",
        "transcript--large",
    }

    DEFAULT_CSS = """
    TranscriptPane {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
    }
    TranscriptPane > .transcript--time { color: $text-muted; }
    TranscriptPane > .transcript--draft { text-style: dim; }
    TranscriptPane > .transcript--final { text-style: none; }
    TranscriptPane > .transcript--revision { color: $warning; text-style: dim italic; }
    TranscriptPane > .transcript--target { color: $accent; }
    TranscriptPane > .transcript--large { text-style: bold; }
    """

    def __init__(self, role: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.role = role
        self.rows = TranscriptRows()
        self.show_time = role != ROLE_TARGET
        self.scrolled_callback: Callable[[TranscriptPane, int], None] | None = None
        """Told about every scroll position change (the app follows the tail and keeps panes in step)."""
        self.syncing = False

    # -- geometry --------------------------------------------------------------------------------------

    def gutter_width(self) -> int:
        """Cells before the text: the timestamp column, or a margin for the large layout."""
        if self.role == ROLE_LARGE:
            return 2
        if not self.show_time:
            return 1
        return 8 if self.rows.rows and self.rows.rows[-1].sentence.start_ms >= 3_600_000 else 6

    def text_width(self) -> int:
        """Cells available to the text on each line."""
        inner = self.scrollable_content_region.width
        margin = 2 if self.role == ROLE_LARGE else 0
        return max(4, inner - self.gutter_width() - margin)

    def show_rows(self, rows: TranscriptRows, *, follow: bool) -> None:
        """Draw from `rows` (shared with the partner pane when aligned); scroll to the end when following."""
        self.rows = rows
        self.virtual_size = Size(self.scrollable_content_region.width, rows.total_lines)
        if follow:
            self.scroll_to_tail()
        self.refresh()

    def tail_y(self) -> int:
        """The scroll position that shows the last line at the bottom."""
        return max(0, self.rows.total_lines - self.scrollable_content_region.height)

    def scroll_to_tail(self) -> None:
        """Show the newest lines."""
        self.set_scroll(None, self.tail_y())

    def at_tail(self) -> bool:
        """Whether the last line is on screen."""
        return round(self.scroll_y) >= self.tail_y()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.scrolled_callback is not None and not self.syncing:
            self.scrolled_callback(self, round(new_value))

    # -- rendering -------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        found = self.rows.locate(round(self.scroll_y) + y)
        if found is None:
            return Strip.blank(width, base)
        row, index = found
        segments = self._line_segments(row, index, base)
        return Strip(segments).adjust_cell_length(width, base)

    def _style(self, name: str, base: Style) -> Style:
        return base + self.get_component_rich_style(name, partial=True)

    def _gutter(self, row: Row, index: int, base: Style) -> Segment:
        width = self.gutter_width()
        if self.show_time and index == 0 and self.role != ROLE_LARGE:
            stamp = format_timestamp(row.sentence.start_ms)
            return Segment(stamp.ljust(width), self._style("transcript--time", base))
        return Segment(" " * width, base)

    def _text_style(self, row: Row, base: Style, *, target: bool) -> Style:
        style = self._style("transcript--final" if row.sentence.final else "transcript--draft", base)
        if target:
            style += self.get_component_rich_style("transcript--target", partial=True)
        return style

    def _line_segments(self, row: Row, index: int, base: Style) -> list[Segment]:
        if self.role == ROLE_LARGE:
            if index >= len(row.target):
                return []
            style = self._text_style(row, base, target=False) + self.get_component_rich_style(
                "transcript--large", partial=True
            )
            return [Segment(" " * self.gutter_width(), base), Segment(row.target[index], style)]
        if self.role == ROLE_INTERLEAVED:
            if index < len(row.source):
                return [self._gutter(row, index, base), *self._source_segments(row, index, base)]
            index -= len(row.source)
            text = row.target[index] if index < len(row.target) else ""
            return [self._gutter(row, 1, base), Segment(text, self._text_style(row, base, target=True))]
        if self.role == ROLE_TARGET:
            text = row.target[index] if index < len(row.target) else ""
            return [self._gutter(row, index, base), Segment(text, self._text_style(row, base, target=True))]
        return [self._gutter(row, index, base), *self._source_segments(row, index, base)]

    def _source_segments(self, row: Row, index: int, base: Style) -> list[Segment]:
        if index >= len(row.source):
            return []
        text = row.source[index]
        style = self._text_style(row, base, target=False)
        if row.tag and index == len(row.source) - 1 and text.endswith(row.tag):
            head = text[: -len(row.tag)]
            return [Segment(head, style), Segment(row.tag, self._style("transcript--revision", base))]
        return [Segment(text, style)]

"""A transcript pane: renders only the visible lines of a `TranscriptRows` (Textual's Line API).

Drawing is on the event loop that also paces the audio packets, so a redraw must be cheap: styles are
resolved once per style change, each rendered line is cached by (row, line) until its row is re-laid out,
and the pane repaints only the lines that changed (while following the tail a scroll repaints it all, but
then every line is a cache hit). Growing the transcript does not trigger a Textual layout pass, and the
scrollbar is repainted only when its thumb moves on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from tongchuan_tui.ui.rows import Damage, Row, TranscriptRows
from tongchuan_tui.ui.text import HOUR_MS, format_timestamp

ROLE_SOURCE = "source"
ROLE_TARGET = "target"
ROLE_INTERLEAVED = "interleaved"
ROLE_LARGE = "large"
MARK_FLAG = "◆"
"""In the gutter of a sentence the user marked (`m`); `[` and `]` jump between them."""
DRAFT_MARK = "›"
"""In the gutter of a translation that may still change: drafts differ from finals without colour."""

EVERYTHING = Damage(0, None)
"""Every line may have changed."""
STRIP_CACHE_LINES = 64
"""Rendered lines kept per pane at least; grown to two screens' worth. Only lines still on screen next frame
are worth keeping, and every kept line holds Textual's derived strips: more would only slow the GC."""


def scrollbar_thumb(size: int, virtual: int, window: int, position: float) -> tuple[int, ...]:
    """What a vertical scrollbar of `size` cells shows, as Textual's ScrollBarRender draws it: the thumb's
    ends in eighths of a cell (equal results draw equal bars)."""
    window = window if window < virtual else 0
    if not (window and size and virtual and size != virtual):
        return (size,)
    thumb = max(1.0, window / (virtual / size))
    start = int((size - thumb) * (position / (virtual - window)) * 8)
    return (size, start, start + math.ceil(thumb * 8))


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every line of one frame is drawn with; the line cache is valid while this stays equal."""

    width: int
    role: str
    show_time: bool
    gutter: int
    """The gutter of a sentence starting before the first hour."""
    late_gutter: int
    """The gutter of a sentence starting from the first hour on (its timestamp is longer)."""
    theme: str
    base: Style
    time: Style
    draft: Style
    final: Style
    revision: Style
    draft_target: Style
    final_target: Style
    draft_large: Style
    final_large: Style


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

    # The colours are in ui/palette.tcss (checked on 16-colour, 256-colour, truecolour and NO_COLOR).
    DEFAULT_CSS = """
    TranscriptPane {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, role: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.role = role
        self.rows = TranscriptRows()
        self.show_time = role != ROLE_TARGET
        self.scrolled_callback: Callable[[TranscriptPane, int], None] | None = None
        """Told about every scroll position change (the app follows the tail and keeps panes in step)."""
        self.syncing = False
        self.marked: frozenset[str] = frozenset()
        """Keys of the sentences marked by the user (flagged in the gutter)."""
        self._frame: _Frame | None = None
        """What lines are drawn with; dropped when the styles change (Textual calls notify_style_update)."""
        self._strips: LRUCache[tuple[int, int], tuple[Row, Strip]] = LRUCache(STRIP_CACHE_LINES)
        """(id(row), line in row) → (row, line); holding the row keeps its id from being reused."""
        self._thumb: tuple[int, ...] = ()
        """What the scrollbar was last told to draw."""
        self._batch: _Frame | None = None
        """The frame of the lines Textual is rendering now (checked once per batch, not per line)."""

    # -- geometry --------------------------------------------------------------------------------------

    def gutter_width(self, start_ms: int = 0) -> int:
        """Cells before the text of a sentence starting at `start_ms`: the timestamp column, or a margin for
        the large layout.

        Decided per sentence, so that a sentence crossing the hour (`H:MM:SS`, two cells wider) changes the
        width of no other sentence: re-wrapping every one held would stall the loop that paces the packets.
        """
        if self.role == ROLE_LARGE:
            return 2
        if not self.show_time:
            return 1
        return 8 if start_ms >= HOUR_MS else 6

    def text_width(self, start_ms: int = 0) -> int:
        """Cells available on each line to the text of a sentence starting at `start_ms`."""
        inner = self.scrollable_content_region.width
        margin = 2 if self.role == ROLE_LARGE else 0
        return max(4, inner - self.gutter_width(start_ms) - margin)

    def show_rows(self, rows: TranscriptRows, *, follow: bool, damage: Damage = EVERYTHING) -> None:
        """Draw from `rows` (shared with the partner pane when aligned); scroll to the end when following.

        Only the lines in `damage` (the rows' line numbers) are repainted, unless the view scrolls.
        """
        self.rows = rows
        self._set_virtual_height(rows.total_lines)
        scrolled_from = self.scroll_offset.y
        if follow:
            self.scroll_to_tail()
        if self.scroll_offset.y != scrolled_from:
            damage = EVERYTHING  # every line moved (set_scroll repaints nothing by itself)
        # Textual moves the thumb only on a scroll while the bar is shown; a scroll made before the first
        # layout (the first rows arrive before it) would leave the thumb at the top.
        self._sync_scrollbar()
        if damage.start == 0 and damage.stop is None:
            self.refresh()
            return
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        start = max(damage.start, top)
        stop = top + height if damage.stop is None else min(damage.stop, top + height)
        if start < stop:
            self.refresh(Region(0, start - top, self.scrollable_content_region.width, stop - start))

    def _set_virtual_height(self, lines: int) -> None:
        size = Size(self.scrollable_content_region.width, lines)
        if size == self.virtual_size:
            return
        if not self.container_size or self.styles.overflow_y != "scroll":
            # Not laid out yet (the first layout sizes the scrollbar), or the bar may come and go: lay out.
            self.virtual_size = size
            return
        # Assigning `virtual_size` requests a layout of the whole screen (tens of ms at 160×48, on the loop
        # that paces the packets) although only this pane's scroll range changed, and the scrollbar is
        # always shown: updating the scroll range is all that layout would do.
        self.set_reactive(TranscriptPane.virtual_size, size)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)
        self._sync_scrollbar()

    def _sync_scrollbar(self) -> None:
        """Tell the scrollbar the scroll range and position; repaint it only if that moves its thumb.

        While the tail grows, the range changes every frame but the drawn thumb rarely does, and repainting
        a scrollbar costs as much as a pane's text.
        """
        if not self.show_vertical_scrollbar:
            return
        bar = self.vertical_scrollbar
        window = self.container_size.height - self.scrollbar_size_horizontal
        virtual = self.virtual_size.height
        position = bar.validate_position(self.scroll_y)
        thumb = scrollbar_thumb(bar.size.height or window, virtual, window, position)
        if thumb == self._thumb:
            bar.set_reactive(ScrollBar.window_virtual_size, virtual)
            bar.set_reactive(ScrollBar.window_size, window)
            bar.set_reactive(ScrollBar.position, position)
            return
        self._thumb = thumb
        bar.window_virtual_size = virtual
        bar.window_size = window
        bar.position = position
        bar.refresh()

    def set_marked(self, keys: frozenset[str]) -> None:
        """Flag these sentences; repaints everything (marks are rare)."""
        if keys != self.marked:
            self.marked = keys
            self._strips.clear()
            self.refresh()

    def tail_y(self) -> int:
        """The scroll position that shows the last line at the bottom."""
        return max(0, self.rows.total_lines - self.scrollable_content_region.height)

    def scroll_to_tail(self) -> None:
        """Show the newest lines (repainting the pane if that moved it)."""
        tail = self.tail_y()
        moved = round(self.scroll_y) != tail
        self.set_scroll(None, tail)
        # set_scroll leaves Textual's scroll target behind: the next wheel tick would scroll from there
        # (the top) instead of from here.
        self.set_reactive(TranscriptPane.scroll_target_y, float(tail))
        if moved:
            # set_scroll repaints nothing: without this, End would leave the old lines on screen.
            self._sync_scrollbar()
            self.refresh()

    def at_tail(self) -> bool:
        """Whether the last line is on screen."""
        return round(self.scroll_y) >= self.tail_y()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # ScrollView's watcher, except that the scrollbar is repainted only when its thumb moves.
        self._sync_scrollbar()
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)
        if self.scrolled_callback is not None and not self.syncing:
            self.scrolled_callback(self, round(new_value))

    # -- rendering -------------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._frame = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._batch = self._current_frame()
        try:
            return super().render_lines(crop)
        finally:
            self._batch = None

    def _current_frame(self) -> _Frame:
        """The frame to draw with (resolving styles walks the DOM: only when they or the geometry change)."""
        frame = self._frame
        width = self.scrollable_content_region.width
        if (
            frame is None
            or frame.width != width
            or frame.role != self.role
            or frame.show_time != self.show_time
            or frame.theme != self.app.theme
        ):
            frame = self._make_frame(width)
            self._frame = frame
            # Every cached line was drawn for the old frame.
            self._strips.clear()
            self._strips.grow(max(STRIP_CACHE_LINES, 2 * self.size.height))
        return frame

    def _make_frame(self, width: int) -> _Frame:
        base = self.rich_style
        component = self.get_component_rich_style

        def style(*names: str) -> Style:
            combined = base
            for name in names:
                combined += component(name, partial=True)
            return combined

        return _Frame(
            width=width,
            role=self.role,
            show_time=self.show_time,
            gutter=self.gutter_width(),
            late_gutter=self.gutter_width(HOUR_MS),
            theme=self.app.theme,
            base=base,
            time=style("transcript--time"),
            draft=style("transcript--draft"),
            final=style("transcript--final"),
            revision=style("transcript--revision"),
            draft_target=style("transcript--draft", "transcript--target"),
            final_target=style("transcript--final", "transcript--target"),
            draft_large=style("transcript--draft", "transcript--large"),
            final_large=style("transcript--final", "transcript--large"),
        )

    def render_line(self, y: int) -> Strip:
        frame = self._batch or self._current_frame()
        found = self.rows.locate(self.scroll_offset.y + y)
        if found is None:
            return Strip.blank(frame.width, frame.base)
        row, index = found
        key = (id(row), index)
        cached = self._strips.get(key)
        if cached is not None:
            return cached[1]
        strip = Strip(self._line_segments(frame, row, index)).adjust_cell_length(frame.width, frame.base)
        self._strips.set(key, (row, strip))
        return strip

    def _gutter(self, frame: _Frame, row: Row, index: int) -> Segment:
        start_ms = row.sentence.start_ms
        gutter = frame.late_gutter if start_ms >= HOUR_MS else frame.gutter
        if frame.show_time and index == 0 and frame.role != ROLE_LARGE:
            stamp = format_timestamp(start_ms).ljust(gutter)
            if row.sentence.key in self.marked and frame.role != ROLE_TARGET:
                stamp = stamp[:-1] + MARK_FLAG
            return Segment(stamp, frame.time)
        return Segment(" " * gutter, frame.base)

    def _line_segments(self, frame: _Frame, row: Row, index: int) -> list[Segment]:
        final = row.sentence.final
        if frame.role == ROLE_LARGE:
            if index >= len(row.target):
                return []
            style = frame.final_large if final else frame.draft_large
            gutter = self._draft_mark(frame, Segment(" " * frame.gutter, frame.base), row, index == 0)
            return [gutter, Segment(row.target[index], style)]
        target_style = frame.final_target if final else frame.draft_target
        if frame.role == ROLE_INTERLEAVED:
            if index < len(row.source):
                return [self._gutter(frame, row, index), *self._source_segments(frame, row, index)]
            index -= len(row.source)
            text = row.target[index] if index < len(row.target) else ""
            gutter = self._draft_mark(frame, self._gutter(frame, row, 1), row, index == 0 and bool(text))
            return [gutter, Segment(text, target_style)]
        if frame.role == ROLE_TARGET:
            text = row.target[index] if index < len(row.target) else ""
            gutter = self._draft_mark(frame, self._gutter(frame, row, index), row, index == 0 and bool(text))
            return [gutter, Segment(text, target_style)]
        return [self._gutter(frame, row, index), *self._source_segments(frame, row, index)]

    @staticmethod
    def _draft_mark(frame: _Frame, gutter: Segment, row: Row, first: bool) -> Segment:
        """The gutter, its last cell a DRAFT_MARK on the first line of a translation not yet final."""
        if row.sentence.final or not first or not gutter.text:
            return gutter
        return Segment(gutter.text[:-1] + DRAFT_MARK, frame.revision)

    @staticmethod
    def _source_segments(frame: _Frame, row: Row, index: int) -> list[Segment]:
        if index >= len(row.source):
            return []
        text = row.source[index]
        style = frame.final if row.sentence.final else frame.draft
        if row.tag and index == len(row.source) - 1 and text.endswith(row.tag):
            head = text[: -len(row.tag)]
            return [Segment(head, style), Segment(row.tag, frame.revision)]
        return [Segment(text, style)]

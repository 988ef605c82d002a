"""The transcript area: source and translation panes arranged by layout, kept in step, following the tail."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message

from tongchuan_tui.ui.model import TranscriptModel
from tongchuan_tui.ui.rows import KIND_ALIGNED, KIND_INTERLEAVED, KIND_LARGE, TranscriptRows
from tongchuan_tui.ui.text import HOUR_MS
from tongchuan_tui.ui.widgets.transcript import (
    ROLE_INTERLEAVED,
    ROLE_LARGE,
    ROLE_SOURCE,
    ROLE_TARGET,
    TranscriptPane,
)

LAYOUTS = ("side", "stacked", "interleaved", "translation")
"""What `l` cycles through: side by side, stacked, interleaved bilingual, translation only (large)."""


class TranscriptPanes(Container):
    """Two `TranscriptPane`s sharing one `TranscriptRows`; the layout is a CSS class of this container."""

    class FollowingChanged(Message):
        """The user scrolled away from the live tail, or back to it."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, source_lang: str, target_lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.rows = TranscriptRows()
        self.following = True
        self.layout_name = ""
        self._last_geometry: tuple[object, ...] = ()
        self._built_geometry: tuple[object, ...] = ()
        self._shown: tuple[object, ...] = ()
        """The panes and sizes the rows were last handed to; a change re-shows them all."""
        self._relaid = False
        """Whether the rows were laid out since the last change of layout."""
        self._settling = False
        """A change of layout is being laid out: scroll positions the panes pass through meanwhile (a pane
        shown again starts at its old position; sizes change before the rows are re-wrapped) are not the
        user's, and must neither stop following nor move the partner pane."""
        self._panes: tuple[TranscriptPane, TranscriptPane] | None = None

    def compose(self) -> ComposeResult:
        yield TranscriptPane(ROLE_SOURCE, id="source-pane")
        yield TranscriptPane(ROLE_TARGET, id="target-pane")

    def on_mount(self) -> None:
        for pane in self.query(TranscriptPane):
            pane.scrolled_callback = self._pane_scrolled

    def _both(self) -> tuple[TranscriptPane, TranscriptPane]:
        # Looked up once: the panes live as long as this container, and a redraw asks for them often.
        if self._panes is None:
            self._panes = (
                self.query_one("#source-pane", TranscriptPane),
                self.query_one("#target-pane", TranscriptPane),
            )
        return self._panes

    @property
    def source_pane(self) -> TranscriptPane:
        return self._both()[0]

    @property
    def target_pane(self) -> TranscriptPane:
        return self._both()[1]

    def visible_panes(self) -> list[TranscriptPane]:
        """The panes the layout shows."""
        if self.layout_name in ("side", "stacked"):
            return [self.source_pane, self.target_pane]
        return [self.source_pane]

    def set_target(self, target_lang: str) -> None:
        """Show another target language's transcript (of a multi-target session): titles and a new layout."""
        self.target_lang = target_lang
        layout, self.layout_name = self.layout_name, ""
        self.rows = TranscriptRows()
        self.set_layout(layout)

    def set_layout(self, layout: str) -> None:
        """Arrange the panes for one of LAYOUTS (and go back to the live tail)."""
        if layout == self.layout_name:
            return
        self.layout_name = layout
        self.set_classes(layout)
        source, target = self.source_pane, self.target_pane
        source.role = {"interleaved": ROLE_INTERLEAVED, "translation": ROLE_LARGE}.get(layout, ROLE_SOURCE)
        target.show_time = layout == "stacked"
        target.border_title = f"translation · {self.target_lang}"
        source.border_title = {
            "translation": f"translation · {self.target_lang}",
            "interleaved": f"{self.source_lang} / {self.target_lang}",
        }.get(layout, f"source · {self.source_lang}")
        if target.has_focus and layout not in ("side", "stacked"):
            source.focus()
        self._relaid = False
        self._settling = True
        self._set_following(True)

    def show(self, transcript: TranscriptModel, *, final_only: bool) -> None:
        """Bring the panes up to date with the transcript: re-lay out everything after a change of layout,
        width or final-only; otherwise only the sentences that changed, repainting only their lines."""
        source, target = self.source_pane, self.target_pane
        # Widths for sentences starting before the first hour and from it on (a wider timestamp): fixed by
        # the panes alone, so a sentence crossing the hour re-wraps no other.
        if self.layout_name in ("side", "stacked"):
            kind = KIND_ALIGNED
            source_width, source_late = source.text_width(), source.text_width(HOUR_MS)
            target_width, target_late = target.text_width(), target.text_width(HOUR_MS)
        else:
            kind = KIND_INTERLEAVED if self.layout_name == "interleaved" else KIND_LARGE
            source_width = target_width = source.text_width()
            source_late = target_late = source.text_width(HOUR_MS)
        params = (kind, source_width, target_width, final_only, source_late, target_late)
        panes = self.visible_panes()
        shown = (self.layout_name, *(pane.size for pane in panes))
        rows = self.rows
        if params == rows.params and self._relaid:
            damage = rows.sync(transcript)
            if shown != self._shown:
                self._shown = shown
                for pane in panes:
                    pane.show_rows(rows, follow=self.following)
            elif damage is not None:
                for pane in panes:
                    pane.show_rows(rows, follow=self.following, damage=damage)
            return
        geometry = (source_width, target_width, source_late, target_late)
        if self._built_geometry and geometry != self._built_geometry:
            # While a terminal is being resized, re-wrapping everything on every frame would stall the loop
            # (and the packets it sends): wait until the size holds for one frame.
            settled = geometry == self._last_geometry
            self._last_geometry = geometry
            if not settled:
                return
        self._built_geometry = geometry
        rows.rebuild(
            transcript.sentences(),
            kind=kind,
            source_width=source_width,
            target_width=target_width,
            final_only=final_only,
            source_width_late=source_late,
            target_width_late=target_late,
            generation=transcript.generation,
            first_ordinal=transcript.evicted,
        )
        self._relaid = True
        self._shown = shown
        for pane in panes:
            pane.show_rows(rows, follow=self.following)
        if self._settling:
            # Textual lays the panes out in their new sizes after this frame: follow from the one after.
            self.call_after_refresh(self._settled)

    def _settled(self) -> None:
        self._settling = False
        if self.following:
            for pane in self.visible_panes():
                pane.scroll_to_tail()

    def set_marked(self, keys: frozenset[str]) -> None:
        """Flag the marked sentences in the gutter."""
        for pane in self._both():
            pane.set_marked(keys)

    def jump_to_mark(self, keys: frozenset[str], *, forward: bool) -> bool:
        """Scroll to the next (or previous) marked sentence from the top of the view; False if none."""
        pane = self.source_pane
        top = round(pane.scroll_y)
        tops = [t for row, t in zip(self.rows.rows, self.rows.tops, strict=False) if row.sentence.key in keys]
        chosen = [t for t in tops if t > top] if forward else [t for t in tops if t < top]
        if not chosen:
            return False
        pane.scroll_to(y=min(chosen) if forward else max(chosen), animate=False)
        return True

    def scroll_to_key(self, key: str) -> bool:
        """Scroll so that the sentence `key` starts at the top of the view (as far as the end allows)."""
        for row, top in zip(self.rows.rows, self.rows.tops, strict=False):
            if row.sentence.key == key:
                self.source_pane.scroll_to(y=top, animate=False)
                return True
        return False

    def go_live(self) -> None:
        """Follow the newest sentences again."""
        self._set_following(True)
        for pane in self.visible_panes():
            pane.scroll_to_tail()

    def _pane_scrolled(self, pane: TranscriptPane, y: int) -> None:
        """Keep aligned panes in step, and stop following the tail when the user scrolls away from it."""
        if self._settling:
            return
        for other in self.visible_panes():
            if other is not pane and round(other.scroll_y) != y:
                other.syncing = True
                try:
                    other.scroll_y = y
                finally:
                    other.syncing = False
        self._set_following(pane.at_tail())

    def _set_following(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            self.post_message(self.FollowingChanged(following))
